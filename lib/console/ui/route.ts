/**
 * The page's route, from the address's hash: `#/event/abc` -> ['event', 'abc']. Each part is percent-decoded as the
 * page's links encode it; a part that is not valid percent-encoding (a hand-edited or truncated address) is kept as
 * written, so the page opens and says what it cannot find rather than render nothing.
 */
export function routeOf(hash: string): string[] {
  return hash
    .replace(/^#\/?/, '')
    .split('/')
    .map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    });
}
