/**
 * Turns an object V8 keeps in dictionary mode back into fast mode, where V8 allows it.
 *
 * V8 stores an object that got many properties added one at a time (the AWS SDK's resolved client
 * config: ~45, added by a dozen `Object.assign`s) as a hash table, and the SDK's middleware spreads
 * that config into a new object four times per call: ~7 µs per spread here, a tenth of that for a
 * fast-mode object. V8 migrates a dictionary-mode object to fast mode once it serves as a prototype
 * and a property is looked up through it from an inline cache a few times. The object itself is not
 * changed: same properties, same prototype. Where V8 does not do this, nothing happens.
 */
export function withFastProperties<T extends object>(object: T): T {
  const heir = Object.create(object) as Record<string, unknown>;
  const probe = (): unknown => heir[FAST_PROPERTIES_PROBE];
  for (let i = 0; i < FAST_PROPERTIES_LOOKUPS; i++) probe();
  return object;
}

/** Looked up through the prototype; absent names migrate it as well as present ones. */
const FAST_PROPERTIES_PROBE = "__capstanFastPropertiesProbe";
/**
 * V8 gives a function inline caches only after several calls (8 in V8 11), and a cache needs two
 * more lookups to record one; a few dozen leave room for other versions' thresholds.
 */
const FAST_PROPERTIES_LOOKUPS = 64;
