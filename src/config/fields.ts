/**
 * What each spec field is, what it accepts and an example, in both languages: the material
 * problem messages are made of. Keys are normalised paths (`backends[].address`,
 * `ssh.hostKeys.*`); SSH target fields are shared by `ssh`, `balancer.ssh` and `backends[].ssh`.
 */
import type { Text } from "../model/index.js";

export interface FieldInfo {
  what: Text;
  rule: Text;
  /** A YAML value that would be accepted. */
  example?: string;
}

function field(whatEs: string, whatEn: string, ruleEs: string, ruleEn: string, example?: string): FieldInfo {
  const info: FieldInfo = { what: { es: whatEs, en: whatEn }, rule: { es: ruleEs, en: ruleEn } };
  if (example !== undefined) info.example = example;
  return info;
}

const IPV4_RULE_ES = "una dirección IPv4: cuatro números de 0 a 255 separados por puntos";
const IPV4_RULE_EN = "an IPv4 address: four numbers 0-255 separated by dots";
const PORT_RULE_ES = "un número entero de 1 a 65535";
const PORT_RULE_EN = "a whole number from 1 to 65535";
const TIMEOUT_RULE_ES = "milisegundos, un entero de 100 a 3600000 (1 h)";
const TIMEOUT_RULE_EN = "milliseconds, a whole number from 100 to 3600000 (1 h)";
const SECRET_RULE_ES = "{ env: NOMBRE_VARIABLE }, { file: ruta } o el texto (desaconsejado)";
const SECRET_RULE_EN = "{ env: VARIABLE_NAME }, { file: path } or the text itself (discouraged)";
const NAME_RULE_ES = "letras, dígitos, '.', '_' o '-', de 1 a 64 caracteres";
const NAME_RULE_EN = "letters, digits, '.', '_' or '-', 1 to 64 characters";
const OBJECT_RULE_ES = "una sección con sus campos debajo";
const OBJECT_RULE_EN = "a section with its fields below it";

export const FIELDS: Record<string, FieldInfo> = {
  $schema: field("la ruta del JSON Schema", "the path of the JSON Schema", "un texto", "a text"),
  version: field("la versión del formato", "the format version", "el número 1", "the number 1", "1"),
  lab: field("el nombre de la práctica (carpeta de informes)", "the lab's name (report folder)", NAME_RULE_ES, NAME_RULE_EN, "alumno-01"),
  student: field("los datos del alumno", "the student's data", OBJECT_RULE_ES, OBJECT_RULE_EN),
  "student.id": field("el identificador del alumno", "the student's id", "un texto de hasta 200 caracteres", "a text of up to 200 characters", "\"A001\""),
  "student.name": field("el nombre del alumno", "the student's name", "un texto de hasta 200 caracteres", "a text of up to 200 characters", "\"Ana Pérez\""),
  "student.email": field("el correo del alumno", "the student's email", "una dirección de correo", "an email address", "ana@example.org"),
  lang: field("el idioma de los informes", "the reports' language", "es o en", "es or en", "es"),
  part: field("la parte de la práctica", "the part of the lab", "auto, lvs o proxy", "auto, lvs or proxy", "auto"),
  step: field("el paso de la práctica que se califica", "the lab step being graded",
    "lvs: rr, wrr, persistence, http-get, final; proxy: byrequests, loadfactor, sticky, final",
    "lvs: rr, wrr, persistence, http-get, final; proxy: byrequests, loadfactor, sticky, final", "final"),
  vip: field("la IP virtual del servicio", "the service's virtual IP", OBJECT_RULE_ES, OBJECT_RULE_EN),
  "vip.address": field("la dirección de la VIP", "the VIP's address", IPV4_RULE_ES, IPV4_RULE_EN, "192.168.0.10"),
  "vip.port": field("el puerto HTTP de la VIP", "the VIP's HTTP port", PORT_RULE_ES, PORT_RULE_EN, "80"),
  "vip.path": field("la ruta pedida por HTTP", "the HTTP path requested", "una ruta que empieza por /, con letras, dígitos, . _ ~ - + , = : @, %XX y una consulta ?a=b&c=d; sin comillas, $, ( ) ni espacios", "a path starting with /, of letters, digits, . _ ~ - + , = : @, %XX and a query ?a=b&c=d; no quotes, $, ( ) nor blanks", "/index.html"),
  "vip.forwardsTo": field("la VIP tal como la tiene el balanceador, cuando vip.address:vip.port es una redirección de puertos hacia ella", "the VIP as the balancer holds it, when vip.address:vip.port is a port forward to it", OBJECT_RULE_ES, OBJECT_RULE_EN, "{ address: 192.168.0.10, port: 80 }"),
  "vip.forwardsTo.address": field("la dirección de la VIP en el balanceador", "the VIP's address on the balancer", IPV4_RULE_ES, IPV4_RULE_EN, "192.168.0.10"),
  "vip.forwardsTo.port": field("el puerto de la VIP en el balanceador", "the VIP's port on the balancer", PORT_RULE_ES, PORT_RULE_EN, "80"),
  "vip.host": field("la cabecera Host", "the Host header", "un nombre de máquina, opcionalmente con :puerto", "a host name, optionally with :port", "www.example.org"),
  grader: field("opciones del calificador", "grader options", OBJECT_RULE_ES, OBJECT_RULE_EN),
  "grader.sourceAddresses": field("direcciones locales extra del calificador", "extra local addresses of the grader", "una lista de IPv4 sin repetir", "a list of IPv4 addresses without repeats", "[192.168.0.50, 192.168.0.51]"),
  "grader.sourceAddresses[]": field("una dirección local del calificador", "a local address of the grader", IPV4_RULE_ES, IPV4_RULE_EN, "192.168.0.50"),
  "grader.natTarget": field("el destino de la prueba de NAT", "the NAT test's target", OBJECT_RULE_ES, OBJECT_RULE_EN),
  "grader.natTarget.address": field("la dirección destino de la prueba de NAT", "the NAT test's target address", IPV4_RULE_ES, IPV4_RULE_EN, "192.168.0.50"),
  "grader.natTarget.port": field("el puerto destino de la prueba de NAT", "the NAT test's target port", PORT_RULE_ES, PORT_RULE_EN, "8080"),
  balancer: field("el balanceador", "the balancer", OBJECT_RULE_ES, OBJECT_RULE_EN),
  "balancer.internalAddress": field("la IP interna del balanceador, puerta de enlace de los servidores web", "the balancer's internal IP, the web servers' gateway", IPV4_RULE_ES, IPV4_RULE_EN, "192.168.100.1"),
  "balancer.serviceAddress": field("la IP propia del balanceador en la red de servicio", "the balancer's own IP on the service network", IPV4_RULE_ES, IPV4_RULE_EN, "192.168.0.2"),
  "balancer.backup": field("el balanceador de respaldo (BACKUP de VRRP), si hay dos", "the backup balancer (VRRP BACKUP), when there are two", OBJECT_RULE_ES, OBJECT_RULE_EN, "{ serviceAddress: 192.168.0.3 }"),
  "balancer.backup.serviceAddress": field("la IP propia del balanceador de respaldo en la red de servicio", "the backup balancer's own IP on the service network", IPV4_RULE_ES, IPV4_RULE_EN, "192.168.0.3"),
  "balancer.local": field("si hagrade se ejecuta en el propio balanceador", "whether hagrade runs on the balancer itself", "true o false (sin comillas)", "true or false (without quotes)", "true"),
  "balancer.ssh": field("el acceso SSH al balanceador", "SSH access to the balancer", OBJECT_RULE_ES, OBJECT_RULE_EN, "{ host: 192.168.0.10 }"),
  backends: field("los servidores web de la granja", "the farm's web servers", "una lista de al menos 2 servidores (name, address, ...)", "a list of at least 2 servers (name, address, ...)"),
  "backends[]": field("un servidor web", "a web server", "una sección con name: y address:", "a section with name: and address:"),
  "backends[].name": field("el nombre del servidor web", "the web server's name", NAME_RULE_ES, NAME_RULE_EN, "webserver1"),
  "backends[].address": field("la IP interna del servidor web", "the web server's internal IP", IPV4_RULE_ES, IPV4_RULE_EN, "192.168.100.11"),
  "backends[].port": field("el puerto HTTP del servidor web", "the web server's HTTP port", PORT_RULE_ES, PORT_RULE_EN, "80"),
  "backends[].identity": field("lo que identity.pattern captura en la página de este servidor", "what identity.pattern captures on this server's page", "un texto de hasta 64 caracteres", "a text of up to 64 characters", "\"1\""),
  "backends[].match": field("una expresión que reconoce la página de este servidor", "a regular expression recognising this server's page", "una expresión regular de JavaScript que compile", "a JavaScript regular expression that compiles", "\"webserver1\""),
  "backends[].weight": field("el peso LVS esperado", "the expected LVS weight", "un entero de 1 a 65535", "a whole number from 1 to 65535", "3"),
  "backends[].loadfactor": field("el loadfactor de Apache esperado", "the expected Apache loadfactor", "un entero de 1 a 100", "a whole number from 1 to 100", "1"),
  "backends[].route": field("la route de Apache esperada", "the expected Apache route", "letras, dígitos, '.', '_', '~' o '-'", "letters, digits, '.', '_', '~' or '-'", "wsrv1"),
  "backends[].ssh": field("el acceso SSH a este servidor web", "SSH access to this web server", OBJECT_RULE_ES, OBJECT_RULE_EN, "{}"),
  "backends[].service": field("órdenes para parar y arrancar el servidor web", "commands to stop and start the web server", OBJECT_RULE_ES, OBJECT_RULE_EN),
  "backends[].service.stop": field("la orden que para el servidor web", "the command that stops the web server", "una orden de una línea", "a one-line command", "\"service apache2 stop\""),
  "backends[].service.start": field("la orden que arranca el servidor web", "the command that starts the web server", "una orden de una línea", "a one-line command", "\"service apache2 start\""),
  "backends[].pagePath": field("la ruta de la página en el servidor web", "the page's path on the web server", "una ruta absoluta", "an absolute path", "/var/www/html/index.html"),
  identity: field("cómo se reconoce qué servidor respondió", "how to tell which server answered", OBJECT_RULE_ES, OBJECT_RULE_EN),
  "identity.pattern": field("la expresión que captura la identidad en la página", "the pattern capturing the identity in the page", "una expresión regular con exactamente un grupo de captura", "a regular expression with exactly one capture group", "\"Bienvenido a webserver(\\\\d+)\""),
  "identity.flags": field("las banderas de la expresión", "the pattern's flags", "letras de d, i, m, s, u, v (sin g ni y)", "letters from d, i, m, s, u, v (no g nor y)", "i"),
  expect: field("lo que la práctica debe cumplir", "what the lab must do", OBJECT_RULE_ES, OBJECT_RULE_EN),
  "expect.lbAlgo": field("el algoritmo LVS esperado", "the expected LVS algorithm", "rr o wrr", "rr or wrr", "wrr"),
  "expect.modules": field("la lista exacta de módulos del kernel que lvs.modules exige", "the exact list of kernel modules lvs.modules requires", "de 1 a 32 nombres de módulo (letras, dígitos, _ y -)", "1 to 32 module names (letters, digits, _ and -)", "[ip_vs, ip_vs_rr, ip_vs_wrr]"),
  "expect.persistenceTimeout": field("la persistencia esperada en segundos", "the expected persistence in seconds", "un entero de 0 (sin persistencia) a 2678400", "a whole number from 0 (no persistence) to 2678400", "1200"),
  "expect.cookieName": field("el nombre de la cookie de afinidad", "the sticky cookie's name", "un nombre de cookie (sin espacios ni ;)", "a cookie name (no spaces nor ;)", "ROUTEID"),
  ssh: field("el acceso SSH", "SSH access", OBJECT_RULE_ES, OBJECT_RULE_EN),
  "ssh.host": field("la máquina a la que conectar", "the machine to connect to", "una IP o un nombre DNS", "an IP address or a DNS name", "192.168.0.10"),
  "ssh.port": field("el puerto SSH", "the SSH port", PORT_RULE_ES, PORT_RULE_EN, "22"),
  "ssh.user": field("el usuario SSH", "the SSH user", "un nombre de usuario (letras, dígitos, . _ - @)", "a user name (letters, digits, . _ - @)", "root"),
  "ssh.privateKey": field("la clave privada SSH", "the SSH private key", "la ruta de un fichero (relativa a la carpeta del spec o con ~)", "a file path (relative to the spec's folder, or with ~)", "~/.ssh/id_ed25519"),
  "ssh.passphrase": field("la frase de paso de la clave", "the key's passphrase", SECRET_RULE_ES, SECRET_RULE_EN, "{ env: HAGRADE_KEY_PASSPHRASE }"),
  "ssh.password": field("la contraseña SSH", "the SSH password", SECRET_RULE_ES, SECRET_RULE_EN, "{ env: HAGRADE_SSH_PASSWORD }"),
  "ssh.agent": field("el agente SSH", "the SSH agent", "true, false o la ruta del socket del agente", "true, false or the path of the agent's socket", "true"),
  "ssh.knownHosts": field("el fichero known_hosts", "the known_hosts file", "la ruta de un fichero (puede no existir aún, su carpeta sí)", "a file path (it may not exist yet, its folder must)", "~/.ssh/known_hosts"),
  "ssh.hostKeys": field("huellas de claves de máquina fijadas", "pinned host key fingerprints", "máquina: \"SHA256:...\"", "host: \"SHA256:...\"", "{ 192.168.0.10: \"SHA256:...\" }"),
  "ssh.hostKeys.*": field("una huella de clave de máquina", "a host key fingerprint", "\"SHA256:\" y 43 caracteres base64 (como imprime ssh-keygen -lf)", "\"SHA256:\" and 43 base64 characters (as ssh-keygen -lf prints)", "\"SHA256:...\""),
  "ssh.hostKey": field("la huella de la clave de esta máquina", "this machine's host key fingerprint", "\"SHA256:\" y 43 caracteres base64 (como imprime ssh-keygen -lf)", "\"SHA256:\" and 43 base64 characters (as ssh-keygen -lf prints)", "\"SHA256:...\""),
  "ssh.jump": field("el salto SSH", "the SSH jump", "balancer o none", "balancer or none", "balancer"),
  "ssh.sudo": field("el uso de sudo", "the use of sudo", "auto, always o never", "auto, always or never", "auto"),
  rubric: field("la rúbrica", "the rubric", OBJECT_RULE_ES, OBJECT_RULE_EN),
  "rubric.points": field("puntos por comprobación", "points per check", "id-de-comprobación: puntos", "check-id: points", "{ \"net.vip-http\": 1 }"),
  "rubric.points.*": field("los puntos de una comprobación", "a check's points", "un número de 0 a 100", "a number from 0 to 100", "1"),
  "rubric.minScore": field("la nota mínima", "the minimum score", "un número mayor o igual que 0", "a number of 0 or more", "5"),
  timeouts: field("los tiempos de espera", "the timeouts", OBJECT_RULE_ES, OBJECT_RULE_EN),
  "timeouts.connect": field("el tiempo de conexión TCP", "the TCP connect timeout", TIMEOUT_RULE_ES, TIMEOUT_RULE_EN, "3000"),
  "timeouts.request": field("el tiempo de una petición HTTP", "an HTTP request's timeout", TIMEOUT_RULE_ES, TIMEOUT_RULE_EN, "5000"),
  "timeouts.ssh": field("el tiempo de una orden SSH", "an SSH command's timeout", TIMEOUT_RULE_ES, TIMEOUT_RULE_EN, "10000"),
  "timeouts.failover": field("el tiempo máximo de conmutación", "the longest failover allowed", TIMEOUT_RULE_ES, TIMEOUT_RULE_EN, "30000"),
  "timeouts.rejoin": field("el tiempo máximo de reincorporación", "the longest rejoin allowed", TIMEOUT_RULE_ES, TIMEOUT_RULE_EN, "90000"),
  sampling: field("el muestreo HTTP", "HTTP sampling", OBJECT_RULE_ES, OBJECT_RULE_EN),
  "sampling.maxRequests": field("las peticiones máximas por decisión", "the most requests per decision", "un entero de 10 a 10000", "a whole number from 10 to 10000", "400"),
  "sampling.ratePerSecond": field("el ritmo máximo de peticiones por segundo", "the highest request rate per second", "un número de 1 a 1000", "a number from 1 to 1000", "200"),
};

const RECORD_FIELDS = new Set(["hostKeys", "points"]);
const SECRET_FIELDS = new Set(["password", "passphrase"]);

/** `["backends", 1, "ssh", "user"]` → `ssh.user`; `["ssh", "hostKeys", "10.0.0.1"]` → `ssh.hostKeys.*`. */
export function normalizeFieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  let previous: PropertyKey | undefined;
  for (const segment of path) {
    if (typeof segment === "number") out += "[]";
    else if (typeof previous === "string" && RECORD_FIELDS.has(previous)) out += ".*";
    else out += out === "" ? String(segment) : `.${String(segment)}`;
    previous = segment;
  }
  return out.replace(/^(?:balancer|backends\[\])\.ssh\./, "ssh.");
}

export function fieldInfo(path: readonly PropertyKey[]): FieldInfo | undefined {
  return FIELDS[normalizeFieldPath(path)];
}

/** Where a value must never be echoed: anything at or below a password or passphrase. */
export function isSecretPath(path: readonly PropertyKey[]): boolean {
  return path.some((segment) => typeof segment === "string" && SECRET_FIELDS.has(segment));
}

/** Cuts a path down to the secret field itself, hiding how the secret was written. */
export function secretFieldPath(path: readonly PropertyKey[]): PropertyKey[] {
  const index = path.findIndex((segment) => typeof segment === "string" && SECRET_FIELDS.has(segment));
  return index === -1 ? [...path] : path.slice(0, index + 1);
}

/** `backends[1].address`, `ssh.hostKeys["192.168.0.1"]`. */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (typeof segment === "string" && /^[A-Za-z_$][\w$]*$/.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}
