/**
 * An age for a person, as `hookline status` and the console's overview both show a queue's oldest message. It lives
 * beside the console's page because the console rebuilds its bundle when a file in this folder changes; the CLI
 * imports it from here.
 */

/** `95` -> `1m 35s`; from 48 hours on, days and hours (`4d 0h`); `null` (nothing to age) -> `-`. */
export function humanAge(seconds: number | null): string {
  if (seconds === null) return '-';
  // Rounded once, before splitting into units, so 59.6 s reads `1m 0s` rather than `60s`, or `59m 60s` near the hour.
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m ${whole % 60}s`;
  const hours = Math.floor(whole / 3600);
  return hours < 48
    ? `${hours}h ${Math.floor((whole % 3600) / 60)}m`
    : `${Math.floor(hours / 24)}d ${hours % 24}h`;
}
