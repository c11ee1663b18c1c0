/**
 * The report's only stylesheet (inline: the CSP forbids anything else). Colour is decoration only: every outcome,
 * pass and fail is also spelled out, so a black-and-white printout says the same thing.
 */
export const REPORT_CSS = `
:root{--ok:#1a7f37;--warn:#9a6700;--skip:#57606a;--bad:#cf222e;--line:#d0d7de;--muted:#57606a}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;font-size:15px;line-height:1.45;color:#1f2328;background:#fff;margin:0}
main{max-width:72rem;margin:0 auto;padding:1.5rem}
h1{font-size:1.1rem;margin:0 0 .4rem;font-weight:600}
h2{font-size:1.25rem;margin:2rem 0 .6rem;padding-bottom:.25rem;border-bottom:2px solid var(--line)}
h3{font-size:1rem;margin:1rem 0 .4rem}
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem}
th,td{border:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top;overflow-wrap:break-word}
th{background:#f6f8fa;font-weight:600}
code{font-family:ui-monospace,SFMono-Regular,Consolas,monospace;font-size:.85em}
code.hash{overflow-wrap:anywhere;word-break:break-all}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.6rem 0}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0;overflow-wrap:anywhere}
.banner{border:2px solid var(--skip);border-left-width:.9rem;border-radius:6px;padding:1rem 1.25rem;margin:0 0 1rem}
.banner .code{font-size:2rem;font-weight:700;margin:0;line-height:1.2}
.banner .label{font-size:1rem;font-weight:700;text-transform:uppercase;letter-spacing:.05em;margin-left:.5rem;vertical-align:middle}
.banner .meaning{font-size:1.05rem;margin:.4rem 0 0}
.outcome-green{border-color:var(--ok);background:#dafbe1}
.outcome-amber{border-color:var(--warn);background:#fff8c5}
.outcome-grey{border-color:var(--skip);background:#f6f8fa}
.outcome-red{border-color:var(--bad);background:#ffebe9}
.counts{display:flex;flex-wrap:wrap;gap:.5rem;margin:.6rem 0;padding:0;list-style:none}
.counts li{border:1px solid var(--line);border-radius:6px;padding:.3rem .7rem}
.counts b{font-size:1.15rem}
.tag{font-weight:600;white-space:nowrap}
.tag.ok{color:var(--ok)}
.tag.bad{color:var(--bad)}
.tag.warn{color:var(--warn)}
.tag.skip{color:var(--skip)}
.na{color:var(--muted);font-style:italic}
.muted{color:var(--muted)}
.regression{border:1px solid var(--line);border-radius:6px;margin:.8rem 0;padding:.6rem .8rem}
.regression h3{margin-top:0}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:.8rem}
.side{border:1px solid var(--line);border-radius:4px;padding:.5rem .7rem;min-width:0}
.side h4{margin:0 0 .3rem;font-size:.95rem}
.side .detail{white-space:pre-wrap;overflow-wrap:anywhere;margin:.3rem 0}
.side ol{margin:.3rem 0 0;padding-left:1.2rem;font-size:.9em}
.verify{margin-top:1.5rem}
@page{margin:15mm}
@media print{
  body{font-size:10.5pt;color:#000;background:#fff}
  main{max-width:none;padding:0}
  .banner,.outcome-green,.outcome-amber,.outcome-grey,.outcome-red{background:none;border-color:#000}
  th{background:none}
  .tag,.tag.ok,.tag.bad,.tag.warn,.tag.skip,.na,.muted{color:#000}
  h2,h3{break-after:avoid;page-break-after:avoid}
  tr,.regression,.side,.banner,dl.facts{break-inside:avoid;page-break-inside:avoid}
  thead{display:table-header-group}
  section.major{break-before:auto}
  #hashes{break-before:page;page-break-before:always}
}
`
  .trim()
  .replace(/\n\s*/g, "");
