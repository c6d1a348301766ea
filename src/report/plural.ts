/** A count with its noun in the right number ("1 error", "2 errors"; "1 petición", "2 peticiones"). */
import type { Lang } from "../model/index.js";

const RULES: Record<Lang, Intl.PluralRules> = { es: new Intl.PluralRules("es"), en: new Intl.PluralRules("en") };

/** The singular and plural of a noun phrase. */
export type Forms = readonly [one: string, other: string];

export function countOf(lang: Lang, n: number, forms: Forms): string {
  return `${n} ${RULES[lang].select(n) === "one" ? forms[0] : forms[1]}`;
}
