/**
 * Geo (geo.c): GEOADD with NX/XX/CH and coordinate edges, GEOPOS, GEODIST in every unit,
 * GEOHASH, GEOSEARCH and GEOSEARCHSTORE (FROMMEMBER/FROMLONLAT, BYRADIUS/BYBOX, ASC/DESC,
 * COUNT [ANY], WITH*, STOREDIST), and the GEORADIUS family with STORE/STOREDIST and the _RO
 * forms. Geo keys are sorted sets, so ZRANGE and ZREM are mixed in.
 */
import { type Arg, c, type FuzzCommand, fuzzType, type Gen } from './gen';

/** Members: two real places, a few more, empty. */
const MEMBERS: readonly Arg[] = ['Palermo', 'Catania', 'Agrigento', 'a', 'b', 'c', '', 'x y'];

/** A longitude: around Sicily mostly, edges and invalid ones sometimes. */
function lon(g: Gen): string {
  if (g.rng.chance(0.85)) return (12 + g.rng.int(4000) / 1000).toFixed(g.rng.range(0, 6));
  return g.rng.pick(['180', '-180', '180.1', '0', '-0', 'x', '', '1e400', 'nan', '13.361389338970184']);
}

/** A latitude: around Sicily mostly, the Mercator limits (±85.05112878) and past them sometimes. */
function lat(g: Gen): string {
  if (g.rng.chance(0.85)) return (36.5 + g.rng.int(2000) / 1000).toFixed(g.rng.range(0, 6));
  return g.rng.pick(['85.05112878', '-85.05112878', '85.06', '90', '0', 'x', '38.115556395496299']);
}

/** A radius or box side: kilometres mostly, zero, negative and invalid. */
function distance(g: Gen): string {
  if (g.rng.chance(0.85)) return String(g.rng.pick([1, 10, 50, 100, 200, 500, 5000]));
  return g.rng.pick(['0', '-1', 'x', '', '1e400', '0.5']);
}

const unit = (g: Gen): string => g.option(['m', 'km', 'ft', 'mi', 'km', 'km', 'M', 'parsec']);

/** GEOSEARCH/GEORADIUS reply options: WITHCOORD WITHDIST WITHHASH, ASC/DESC, COUNT n [ANY]. */
function replyOptions(g: Gen): Arg[] {
  const out: Arg[] = [];
  if (g.rng.chance(0.3)) out.push(g.option(['WITHCOORD']));
  if (g.rng.chance(0.3)) out.push(g.option(['WITHDIST']));
  if (g.rng.chance(0.3)) out.push(g.option(['WITHHASH']));
  return out;
}

function orderAndCount(g: Gen): Arg[] {
  const out: Arg[] = [];
  if (g.rng.chance(0.5)) out.push(g.option(['ASC', 'DESC']));
  if (g.rng.chance(0.4)) {
    out.push(g.option(['COUNT']), g.int(-1, 4));
    if (g.rng.chance(0.3)) out.push(g.option(['ANY']));
  } else if (g.rng.chance(0.03)) out.push(g.option(['ANY']));
  return out;
}

/** GEOSEARCH key | GEOSEARCHSTORE dst src, then FROM*, BY*, order, count, WITH* or STOREDIST. */
function geosearch(g: Gen, store: boolean): FuzzCommand {
  const args: Arg[] = store ? ['GEOSEARCHSTORE', g.key(), g.key()] : ['GEOSEARCH', g.key()];
  if (g.rng.chance(0.95)) {
    if (g.rng.chance(0.5)) args.push(g.option(['FROMMEMBER']), g.value(MEMBERS));
    else args.push(g.option(['FROMLONLAT']), lon(g), lat(g));
  }
  if (g.rng.chance(0.05)) args.push(g.option(['FROMMEMBER']), g.value(MEMBERS));
  if (g.rng.chance(0.95)) {
    if (g.rng.chance(0.5)) args.push(g.option(['BYRADIUS']), distance(g), unit(g));
    else args.push(g.option(['BYBOX']), distance(g), distance(g), unit(g));
  }
  args.push(...orderAndCount(g));
  if (store) {
    if (g.rng.chance(0.4)) args.push(g.option(['STOREDIST']));
    if (g.rng.chance(0.05)) args.push(g.option(['WITHDIST']));
  } else args.push(...replyOptions(g));
  return c(...args);
}

/** GEORADIUS[_RO] key lon lat | GEORADIUSBYMEMBER[_RO] key member, radius unit, options, STORE. */
function georadius(g: Gen): FuzzCommand {
  const byMember = g.rng.chance(0.5);
  const ro = g.rng.chance(0.3);
  const name = `${byMember ? 'GEORADIUSBYMEMBER' : 'GEORADIUS'}${ro ? '_RO' : ''}`;
  const args: Arg[] = [name, g.key(), ...(byMember ? [g.value(MEMBERS)] : [lon(g), lat(g)]), distance(g), unit(g)];
  args.push(...replyOptions(g), ...orderAndCount(g));
  if (g.rng.chance(ro ? 0.05 : 0.3)) args.push(g.option(['STORE', 'STOREDIST']), g.key());
  return c(...args);
}

function geoadd(g: Gen): FuzzCommand {
  const opts: string[] = [];
  if (g.rng.chance(0.2)) opts.push(g.option(['NX', 'XX']));
  if (g.rng.chance(0.2)) opts.push(g.option(['CH']));
  const n = g.rng.chance(0.02) ? g.rng.range(125, 140) : g.rng.range(1, 4);
  const triples = g.many(n, () => [lon(g), lat(g), n > 20 ? `p:${g.rng.int(300)}` : g.value(MEMBERS)]).flat();
  return c('GEOADD', g.key(), ...opts, ...triples);
}

/** The geo generator. */
export const geo = fuzzType('geo', (g, key) => ['GEOADD', key, lon(g), lat(g), g.rng.pick(MEMBERS)], [
  geoadd,
  geoadd,
  geoadd,
  (g) => c('GEOPOS', g.key(), ...g.many(g.rng.range(0, 3), () => g.value(MEMBERS))),
  (g) => c('GEODIST', g.key(), g.value(MEMBERS), g.value(MEMBERS), ...(g.rng.chance(0.6) ? [unit(g)] : [])),
  (g) => c('GEOHASH', g.key(), ...g.many(g.rng.range(0, 3), () => g.value(MEMBERS))),
  (g) => geosearch(g, false),
  (g) => geosearch(g, false),
  (g) => geosearch(g, true),
  georadius,
  georadius,
  (g) => c('ZRANGE', g.key(), '0', '-1', 'WITHSCORES'),
  (g) => c('ZREM', g.key(), g.value(MEMBERS)),
  (g) => c('OBJECT', 'ENCODING', g.key()),
]);
