/**
 * The commented spec `hagrade init` writes: the lab text's example scenario (service network
 * 192.168.0.0/24 with VIP 192.168.0.10; server network 192.168.100.0/24 with the balancer as
 * gateway 192.168.100.1), ready to edit. It must load as written, apart from the key file.
 */
import { SPEC_REFERENCE, type Lang } from "../model/index.js";

interface Comments {
  header: string[];
  lab: string;
  student: string;
  lang: string;
  part: string;
  step: string;
  vip: string;
  balancer: string;
  balancerSsh: string;
  backends: string;
  identity: string;
  weight: string;
  loadfactor: string;
  route: string;
  identityPattern: string;
  expect: string;
  persistence: string;
  ssh: string;
  privateKey: string;
  password: string;
  knownHosts: string;
  timeouts: string;
  sampling: string;
}

const COMMENTS: Record<Lang, Comments> = {
  es: {
    header: [
      "Especificación de la práctica \"Servicio web en alta disponibilidad\" para hagrade.",
      `Referencia de todos los campos: ${SPEC_REFERENCE}. Las rutas relativas parten de la carpeta de este fichero.`,
    ],
    lab: "Nombre de la práctica: también es la carpeta de los informes.",
    student: "Datos del alumno (opcionales), aparecen en los informes.",
    lang: "Idioma de los informes: es | en.",
    part: "auto detecta la parte; lvs = keepalived/IPVS (parte 1), proxy = Apache (parte 2).",
    step: "Paso a calificar (opcional); sin él se califica la práctica completa.",
    vip: "La IP virtual del servicio (VIP) en la red de servicio.",
    balancer: "El balanceador/proxy inverso: su IP en la red de servidores es la puerta de enlace de los servidores web.",
    balancerSsh: "Acceso SSH al balanceador (sin esta sección se omiten las comprobaciones por SSH).",
    backends: "Los servidores web de la granja (al menos dos).",
    identity: "Lo que identity.pattern captura en su página (\"Bienvenido a webserver1\" → 1).",
    weight: "Peso LVS esperado (parte 1, lb_algo wrr).",
    loadfactor: "loadfactor de Apache esperado (parte 2).",
    route: "route de Apache esperada (parte 2, persistencia con ROUTEID).",
    identityPattern: "Cómo se reconoce qué servidor respondió: un único grupo de captura.",
    expect: "Lo que debe cumplir la práctica.",
    persistence: "persistence_timeout esperado en segundos (20 minutos = 1200; 0 = sin persistencia).",
    ssh: "Valores SSH comunes a todas las máquinas (los servidores web se alcanzan saltando por el balanceador).",
    privateKey: "Clave privada; la pública debe estar en authorized_keys de cada máquina.",
    password: "Mejor que una contraseña en claro: password: { env: HAGRADE_SSH_PASSWORD }",
    knownHosts: "known_hosts propio (por defecto ~/.ssh/known_hosts).",
    timeouts: "Tiempos de espera en milisegundos.",
    sampling: "Límites del muestreo HTTP.",
  },
  en: {
    header: [
      "hagrade spec of the \"Web service in high availability\" lab.",
      `Reference of every field: ${SPEC_REFERENCE}. Relative paths start at this file's folder.`,
    ],
    lab: "The lab's name: also the folder of its reports.",
    student: "The student's data (optional), shown in reports.",
    lang: "Language of the reports: es | en.",
    part: "auto detects the part; lvs = keepalived/IPVS (part 1), proxy = Apache (part 2).",
    step: "Step to grade (optional); without it the whole lab is graded.",
    vip: "The service's virtual IP (VIP) on the service network.",
    balancer: "The balancer/reverse proxy: its address on the server network is the web servers' gateway.",
    balancerSsh: "SSH access to the balancer (without this section, SSH checks are skipped).",
    backends: "The farm's web servers (at least two).",
    identity: "What identity.pattern captures on its page (\"Bienvenido a webserver1\" → 1).",
    weight: "Expected LVS weight (part 1, lb_algo wrr).",
    loadfactor: "Expected Apache loadfactor (part 2).",
    route: "Expected Apache route (part 2, ROUTEID stickiness).",
    identityPattern: "How to tell which server answered: exactly one capture group.",
    expect: "What the lab must do.",
    persistence: "Expected persistence_timeout in seconds (20 minutes = 1200; 0 = no persistence).",
    ssh: "SSH settings shared by every machine (web servers are reached by jumping through the balancer).",
    privateKey: "Private key; its public half must be in each machine's authorized_keys.",
    password: "Better than a clear-text password: password: { env: HAGRADE_SSH_PASSWORD }",
    knownHosts: "A known_hosts of its own (default ~/.ssh/known_hosts).",
    timeouts: "Timeouts in milliseconds.",
    sampling: "Bounds on HTTP sampling.",
  },
};

export function starterSpec(lang: Lang): string {
  const c = COMMENTS[lang];
  return [
    ...c.header.map((line) => `# ${line}`),
    "version: 1",
    `lab: alumno-01                 # ${c.lab}`,
    `# ${c.student}`,
    "student:",
    "  id: \"A001\"",
    "  name: \"Ana Pérez\"",
    `lang: ${lang}                       # ${c.lang}`,
    `part: auto                     # ${c.part}`,
    `# step: final                  # ${c.step}`,
    "",
    `# ${c.vip}`,
    "vip:",
    "  address: 192.168.0.10",
    "  port: 80",
    "  path: /",
    "",
    `# ${c.balancer}`,
    "balancer:",
    "  internalAddress: 192.168.100.1",
    `  # ${c.balancerSsh}`,
    "  ssh:",
    "    host: 192.168.0.10",
    "",
    `# ${c.backends}`,
    "backends:",
    "  - name: webserver1",
    "    address: 192.168.100.11",
    `    identity: "1"                # ${c.identity}`,
    `    weight: 1                    # ${c.weight}`,
    `    loadfactor: 1                # ${c.loadfactor}`,
    `    route: wsrv1                 # ${c.route}`,
    "  - name: webserver2",
    "    address: 192.168.100.12",
    "    identity: \"2\"",
    "    weight: 1",
    "    loadfactor: 1",
    "    route: wsrv2",
    "",
    `# ${c.identityPattern}`,
    "identity:",
    "  pattern: \"Bienvenido a webserver(\\\\d+)\"",
    "  flags: i",
    "",
    `# ${c.expect}`,
    "expect:",
    "  # lbAlgo: wrr",
    `  persistenceTimeout: 1200     # ${c.persistence}`,
    "  cookieName: ROUTEID",
    "",
    `# ${c.ssh}`,
    "ssh:",
    "  user: root",
    "  port: 22",
    `  privateKey: ~/.ssh/id_ed25519   # ${c.privateKey}`,
    `  # ${c.password}`,
    `  # knownHosts: ~/.ssh/known_hosts   # ${c.knownHosts}`,
    "  sudo: auto",
    "",
    `# ${c.timeouts}`,
    "timeouts:",
    "  connect: 3000",
    "  request: 5000",
    "  ssh: 10000",
    "  failover: 30000",
    "  rejoin: 90000",
    "",
    `# ${c.sampling}`,
    "sampling:",
    "  maxRequests: 400",
    "  ratePerSecond: 200",
    "",
  ].join("\n");
}
