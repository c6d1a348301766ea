/**
 * The model of keepalived.conf the lab grades: global_defs, virtual servers with their real
 * servers and health checks, virtual_server_groups and VRRP instances, each with its file and line.
 */

import { type InspectProblem } from "./common.js";

export type KeepalivedCheckType =
  | "TCP_CHECK" | "HTTP_GET" | "SSL_GET" | "MISC_CHECK" | "SMTP_CHECK" | "DNS_CHECK"
  | "UDP_CHECK" | "PING_CHECK" | "BFD_CHECK" | "FILE_CHECK";

export interface StatusCodeRange {
  min: number;
  max: number;
}

export interface KeepalivedUrl {
  path?: string;
  /** Lower-case hex, as genhash prints it (keepalived compares digests byte-wise). */
  digest?: string;
  /** Accepted status codes; keepalived accepts 200-299 when none is given. */
  statusCodes: StatusCodeRange[];
  statusCodeGiven: boolean;
  virtualhost?: string;
  regex?: string;
  file: string;
  line: number;
}

export interface KeepalivedCheck {
  type: KeepalivedCheckType;
  connectIp?: string;
  connectPort?: number;
  /** The port the checker actually connects to: connect_port, or the real server's port. */
  effectivePort?: number;
  connectTimeout?: number;
  retry?: number;
  /** Which keyword gave `retry`: the deprecated "nb_get_retry" of keepalived 1.x or "retry". */
  retryKeyword?: "retry" | "nb_get_retry";
  delayBeforeRetry?: number;
  delayLoop?: number;
  warmup?: number;
  urls: KeepalivedUrl[];
  virtualhost?: string;
  miscPath?: string;
  miscTimeout?: number;
  file: string;
  line: number;
}

export interface KeepalivedRealServer {
  address: string;
  port?: number;
  /** keepalived's default weight is 1. */
  weight: number;
  inhibitOnFailure: boolean;
  checks: KeepalivedCheck[];
  file: string;
  line: number;
}

export interface KeepalivedVirtualServer {
  /** "203.0.113.10 80", "fwmark 1" or "group NAME". */
  kind: "address" | "fwmark" | "group";
  address?: string;
  port?: number;
  fwmark?: number;
  group?: string;
  delayLoop?: number;
  /** IPVS scheduler (lb_algo, or lvs_sched in newer configs). */
  lbAlgo?: string;
  /** NAT, DR or TUN (lb_kind, or lvs_method). */
  lbKind?: string;
  /** Seconds; undefined when the line is absent. 0 as written is reported as a problem. */
  persistenceTimeout?: number;
  persistenceGranularity?: string;
  protocol?: string;
  sorryServer?: { address: string; port?: number };
  virtualhost?: string;
  quorum?: number;
  realServers: KeepalivedRealServer[];
  file: string;
  line: number;
}

export interface KeepalivedVrrpInstance {
  name: string;
  state?: string;
  interface?: string;
  virtualRouterId?: number;
  priority?: number;
  advertInt?: number;
  nopreempt: boolean;
  virtualIpAddresses: string[];
  authType?: string;
  /** Whether auth_pass is set; its value is never kept. */
  authPassSet: boolean;
  trackScripts: string[];
  trackInterfaces: string[];
  file: string;
  line: number;
}

export interface KeepalivedGlobalDefs {
  routerId?: string;
  /** "lvs_id" is what keepalived 1.x and the lab text call router_id; 2.2.7 no longer knows it. */
  routerIdKeyword?: "router_id" | "lvs_id";
  notificationEmail: string[];
  notificationEmailFrom?: string;
  smtpServer?: string;
  file?: string;
  line?: number;
}

export interface KeepalivedVirtualServerGroup {
  name: string;
  /** Member lines as written: "10.0.0.1 8080", "192.168.200.3-10 80", "fwmark 1". */
  members: string[][];
  file: string;
  line: number;
}

export interface KeepalivedModel {
  globalDefs: KeepalivedGlobalDefs;
  virtualServers: KeepalivedVirtualServer[];
  virtualServerGroups: KeepalivedVirtualServerGroup[];
  vrrpInstances: KeepalivedVrrpInstance[];
  problems: InspectProblem[];
}
