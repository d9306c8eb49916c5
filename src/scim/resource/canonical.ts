/**
 * The one comparison form of caseExact:false text (RFC 7643 §2.2 "caseExact"), modelled on the PRECIS
 * UsernameCaseMapped profile (RFC 8265 §3.3): two spellings a person would call the same name compare
 * equal. `canonicalName(s)` is, in this order:
 *
 * 1. Width mapping (RFC 8265 §3.3.1 rule 1): each fullwidth or halfwidth character (U+3000 and
 *    U+FF01..U+FFEE, exactly the characters whose compatibility decomposition is tagged <wide> or
 *    <narrow>) becomes its NFKC form, so "ＡＤＡ" is "ADA" and halfwidth katakana are katakana. Full NFKC
 *    is NOT applied: it would also fold ligatures, superscripts, circled and mathematical letters
 *    ("ﬁ", "²", "ℌ"), which PRECIS refuses rather than maps, and which are not width variants.
 * 2. NFC, so that step 3 sees composed characters.
 * 3. Case mapping: `toLowerCase()` (Unicode default case mapping; "İ" becomes "i̇", as "i̇" is already).
 * 4. NFC again (RFC 8265 §3.3.1 rule 4): lower-casing can leave a string that is not NFC.
 *
 * The form is idempotent (canonicalName(canonicalName(s)) === canonicalName(s)) and never turns a
 * non-empty string into "". It does not trim and does not refuse anything: refusing control and
 * format characters in identifiers is checkIdentifier's job, so filters with `co`/`sw`/`ew` keep their
 * meaning for any text.
 */

/** Fullwidth and halfwidth forms: U+3000 IDEOGRAPHIC SPACE and the Halfwidth and Fullwidth Forms block. */
const WIDTH_VARIANT = /[\u3000\uFF01-\uFFEE]/g

/** The comparison form of caseExact:false text: width mapping, NFC, toLowerCase, NFC (see above). */
export function canonicalName(value: string): string {
  const narrow = value.replace(WIDTH_VARIANT, (ch) => ch.normalize('NFKC'))
  return narrow.normalize('NFC').toLowerCase().normalize('NFC')
}

/** The comparison form of a string, or null for anything else (the columns of absent attributes). */
export function canonicalOrNull(value: unknown): string | null {
  return typeof value === 'string' ? canonicalName(value) : null
}

/** Spaces (Unicode Zs: U+0020, U+00A0, U+3000, ...) at either end. */
const EDGE_SPACES = /^\p{Zs}+|\p{Zs}+$/gu

/** Control (Cc) and format (Cf: zero-width space and joiners, BOM, bidi controls, soft hyphen) characters. */
const INVISIBLE = /[\p{Cc}\p{Cf}]/u

/**
 * The stored form of an identifier (userName, Group displayName): spaces at either end are trimmed,
 * since IdPs pass through what an admin typed and a trailing space is never meant; a control or
 * format character anywhere is refused. Returns the trimmed value, or a reason it is refused.
 */
export function checkIdentifier(value: string): { value: string } | { refused: string } {
  const trimmed = value.replace(EDGE_SPACES, '')
  const bad = INVISIBLE.exec(trimmed)
  if (bad) {
    const code = (bad[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')
    return { refused: `contains the invisible or control character U+${code}` }
  }
  return { value: trimmed }
}

/** The form a sign-in lookup compares: identifiers are stored trimmed, so the lookup is trimmed too. */
export function canonicalLookup(value: string): string {
  return canonicalName(value.replace(EDGE_SPACES, ''))
}
