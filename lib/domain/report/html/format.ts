import { escapeHtml } from "./escape";

/** A timestamp as "2026-01-20 02:03:00 UTC" (normalised to UTC so offsets from devices read alike); raw if unparseable. */
export function formatTime(at: string): string {
  const ms = Date.parse(at);
  if (Number.isNaN(ms)) return escapeHtml(at);
  return escapeHtml(
    new Date(ms)
      .toISOString()
      .replace("T", " ")
      .replace(/\.\d+Z$|Z$/, " UTC"),
  );
}

/** A duration in milliseconds as "1 h 05 min", "4 min 30 s" or "12 s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, "0")} min`;
  if (m > 0) return s === 0 ? `${m} min` : `${m} min ${String(s).padStart(2, "0")} s`;
  return `${s} s`;
}

/** An HRESULT (stored as a signed 32-bit integer) as Windows shows it: 0x80240017. */
export function formatHresult(hresult: number | undefined): string {
  if (hresult === undefined) return "";
  return `0x${(hresult >>> 0).toString(16).toUpperCase().padStart(8, "0")}`;
}

/** Pass/fail as words and a symbol, so the meaning survives black-and-white printing. */
export function passFail(success: boolean): string {
  return success ? '<span class="tag ok">✔ PASS</span>' : '<span class="tag bad">✘ FAIL</span>';
}

/** The placeholder for a section whose artifact could not be read back verified. */
export function notAvailable(path: string, what: string): string {
  return `<p class="na" data-testid="not-available">Not available: ${escapeHtml(what)} (<code>${escapeHtml(path)}</code>) is not in the verified evidence of this run.</p>`;
}

/** A table with escaped-by-the-caller cells: `cells` are HTML already. */
export function table(headers: readonly string[], rows: readonly string[], className = ""): string {
  const cls = className === "" ? "" : ` class="${className}"`;
  return [
    `<table${cls}><thead><tr>${headers.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join("")}</tr></thead>`,
    `<tbody>${rows.join("")}</tbody></table>`,
  ].join("");
}

/** A row of escaped text cells. */
export function textRow(cells: readonly string[], attrs = ""): string {
  return `<tr${attrs}>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`;
}

/** A hash, wrapped anywhere so 64 hex digits never widen the page. */
export function hash(value: string): string {
  return `<code class="hash">${escapeHtml(value)}</code>`;
}
