/**
 * Every type's generator by name, and the one list of types CI runs against Shrike. A helper
 * whose type lands in Shrike adds its name to ENABLED_TYPES (and nothing else).
 */

import { bitmaps } from './bitmaps';
import { type FuzzType, TYPE_NAMES, type TypeName } from './gen';
import { generic } from './generic';
import { geo } from './geo';
import { hashes } from './hashes';
import { hyperloglog } from './hyperloglog';
import { lists } from './lists';
import { sets } from './sets';
import { sort } from './sort';
import { strings } from './strings';
import { zsets } from './zsets';

/** The types Shrike implements: fuzz.test.ts compares them against redis-server on every `npm test`. */
export const ENABLED_TYPES: readonly TypeName[] = [
  'strings',
  'generic',
  'lists',
  'hashes',
  'sets',
  'zsets',
  'bitmaps',
  'hyperloglog',
  'geo',
  'sort',
];

/** Every generator, by type name. */
export const GENERATORS: Readonly<Record<TypeName, FuzzType>> = {
  strings,
  generic,
  lists,
  hashes,
  sets,
  zsets,
  bitmaps,
  hyperloglog,
  geo,
  sort,
};

/** Parse a comma-separated list of type names (`all` for every type); throws on an unknown name. */
export function parseTypes(list: string): TypeName[] {
  if (list === 'all') return [...TYPE_NAMES];
  return list.split(',').map((n) => {
    const name = n.trim();
    if (!(TYPE_NAMES as readonly string[]).includes(name)) throw new Error(`unknown fuzz type ${name}; known: ${TYPE_NAMES.join(', ')}`);
    return name as TypeName;
  });
}
