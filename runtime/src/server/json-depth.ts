/**
 * Nesting depth of JSON text, measured before anything walks the parsed value. V8's JSON.parse is
 * iterative, but JSON.stringify and every recursive walk are not: a state patch nested 10,000 deep
 * overflowed the stack and answered 500. A scan of the text is linear and allocates nothing.
 */

/**
 * True when `text` nests arrays/objects deeper than `maxDepth` (brackets inside strings do not count).
 * Only meaningful for text that is otherwise valid JSON; it does not validate.
 *
 * @example
 * jsonDepthExceeds('{"a":[1]}', 2) // → false
 * jsonDepthExceeds('[[[1]]]', 2)   // → true
 */
export function jsonDepthExceeds(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return false;
}
