import { STAGE_COLOURS } from "./board-script";

/**
 * The meeting-hall board's stylesheet (served as /board/assets/board.css): a
 * dark screen for a 1920×1080 hall display, light text, the three batches in
 * their colours. Sizes are in rem and the rem follows the screen (16 px at
 * 1920×1080), so the same layout fills a smaller or a 4K screen; the script
 * shrinks the venue table's text until every venue fits its panel.
 */
export const BOARD_STYLE = `
:root {
  --bg: #061330;
  --panel: rgba(28, 58, 120, 0.32);
  --line: rgba(130, 170, 255, 0.28);
  --text: #f2f6ff;
  --muted: #a9bbdf;
  --signed: ${STAGE_COLOURS.SIGNED};
  --started: ${STAGE_COLOURS.STARTED};
  --produced: ${STAGE_COLOURS.IN_PRODUCTION};
  font-size: min(calc(100vw / 120), calc(100vh / 67.5));
}
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; }
body {
  overflow: hidden;
  display: grid;
  grid-template-rows: auto auto 1fr;
  gap: 1.25rem;
  padding: 1.5rem 2rem 1.75rem;
  background: radial-gradient(ellipse at 50% -20%, #17408f 0%, var(--bg) 62%) fixed, var(--bg);
  color: var(--text);
  font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "WenQuanYi Micro Hei", sans-serif;
  font-variant-numeric: tabular-nums;
}
h1, h2, p { margin: 0; }

.top { display: flex; align-items: flex-end; justify-content: space-between; gap: 2rem; border-bottom: 2px solid var(--line); padding-bottom: 0.9rem; }
.top h1 { font-size: 2.9rem; font-weight: 700; letter-spacing: 0.06em; line-height: 1.2; }
.top .date { margin-top: 0.35rem; font-size: 1.6rem; color: var(--muted); letter-spacing: 0.04em; }
.status { text-align: right; white-space: nowrap; }
.connection { display: inline-block; font-size: 1.15rem; padding: 0.3rem 0.9rem; border-radius: 999px; border: 1px solid currentColor; }
.connection::before { content: "●"; margin-right: 0.5rem; }
.connection[data-state="live"] { color: #52e08a; }
.connection[data-state="reconnecting"] { color: #ffb340; }
.connection[data-state="reconnecting"]::before { animation: blink 1s steps(2) infinite; }
.connection[data-state="connecting"] { color: var(--muted); }
.updated { margin-top: 0.45rem; font-size: 1.05rem; color: var(--muted); }

.totals { display: grid; grid-template-columns: repeat(3, 1fr); gap: 1.5rem; }
.total { display: grid; grid-template-columns: 1fr auto; align-items: baseline; background: var(--panel); border: 1px solid var(--line); border-top: 0.4rem solid; border-radius: 0.6rem; padding: 0.8rem 1.6rem 0.7rem; }
.total[data-stage="SIGNED"] { border-top-color: var(--signed); }
.total[data-stage="STARTED"] { border-top-color: var(--started); }
.total[data-stage="IN_PRODUCTION"] { border-top-color: var(--produced); }
.total h2 { font-size: 2rem; font-weight: 700; letter-spacing: 0.2em; }
.total .figure { grid-column: 1 / -1; display: flex; align-items: baseline; gap: 0.6rem; }
.total .amount { font-size: 7rem; font-weight: 800; line-height: 1.05; letter-spacing: -0.01em; }
.total[data-stage="SIGNED"] .amount { color: var(--signed); }
.total[data-stage="STARTED"] .amount { color: var(--started); }
.total[data-stage="IN_PRODUCTION"] .amount { color: var(--produced); }
.total .unit { font-size: 2rem; color: var(--muted); }
.total .count { font-size: 1.75rem; color: var(--text); }
.total .count .number { font-size: 2.4rem; font-weight: 700; margin-right: 0.3rem; }

.detail { display: grid; grid-template-columns: 55fr 45fr; gap: 1.5rem; min-height: 0; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 0.6rem; padding: 0.9rem 1.25rem 1rem; display: flex; flex-direction: column; min-height: 0; overflow: hidden; }
.panel h2 { font-size: 1.5rem; font-weight: 700; letter-spacing: 0.08em; margin-bottom: 0.5rem; }
.chart { flex: 1; min-height: 0; }

.table-fit { flex: 1; min-height: 0; overflow: hidden; }
#venues { width: 100%; border-collapse: collapse; table-layout: fixed; font-size: 1.3rem; }
#venues th, #venues td { padding: 0.12em 0.5em; line-height: 1.32; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
#venues thead th { color: var(--muted); font-weight: 600; text-align: right; border-bottom: 1px solid var(--line); }
#venues thead th.venue { text-align: left; width: 28%; }
#venues thead tr:first-child th.stage { text-align: center; font-size: 1.1em; font-weight: 700; border-bottom: 3px solid; }
#venues thead th.SIGNED { color: var(--signed); }
#venues thead th.STARTED { color: var(--started); }
#venues thead th.IN_PRODUCTION { color: var(--produced); }
#venues tbody th { text-align: left; font-weight: 600; }
#venues tbody td { text-align: right; }
#venues tbody td.amount { font-weight: 700; }
#venues tbody tr:nth-child(even) { background: rgba(255, 255, 255, 0.035); }
#venues tbody tr.main { background: rgba(255, 197, 61, 0.14); }
#venues tbody tr.main th .region { font-weight: 800; }
#venues .kind { display: inline-block; font-size: 0.72em; padding: 0.05em 0.45em; margin-right: 0.6em; border-radius: 0.3em; border: 1px solid var(--muted); color: var(--muted); vertical-align: 0.1em; }
#venues tr.main .kind { border-color: var(--signed); color: var(--signed); }

/* Before the first figures (and for a meeting that cannot be shown): the cards' headings only. */
body.empty .total .figure, body.empty .total .count { visibility: hidden; }
body.stale .amount, body.stale .count, body.stale .chart { opacity: 0.55; transition: opacity 0.4s; }
.changed { animation: flash 2.4s ease-out; }

.notice { position: fixed; left: 50%; top: 50%; transform: translate(-50%, -50%); min-width: 40rem; max-width: 80vw; padding: 2.5rem 3rem; background: #12244d; border: 2px solid #ff8a50; border-radius: 0.8rem; box-shadow: 0 1rem 4rem rgba(0, 0, 0, 0.6); text-align: center; }
.notice[hidden] { display: none; }
.notice h2 { font-size: 3rem; color: #ffb38a; margin-bottom: 1rem; }
.notice p { font-size: 1.6rem; color: var(--text); overflow-wrap: anywhere; }

@keyframes flash { 0% { background-color: rgba(255, 255, 255, 0.55); } 100% { background-color: transparent; } }
@keyframes blink { 50% { opacity: 0; } }
`;
