/**
 * An age for a person, as `hookline status` and the console's overview both show a queue's oldest message. It lives
 * beside the console's page because the console rebuilds its bundle when a file in this folder changes; the CLI
 * imports it from here.
 */

/** `95` -> `1m 35s`; from 48 hours on, days and hours (`4d 0h`); `null` (nothing to age) -> `-`. */
export function humanAge(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${Math.round(seconds % 60)}s`;
  const hours = Math.floor(seconds / 3600);
  return hours < 48
    ? `${hours}h ${Math.floor((seconds % 3600) / 60)}m`
    : `${Math.floor(hours / 24)}d ${hours % 24}h`;
}
