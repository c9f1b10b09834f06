// A run's page. While the run is live it polls the JSON API every second and swaps in the header,
// action tree and timeline the server rendered; it stops once the run is terminal. Clicking an
// action fills the details panel from the same JSON; user data is only ever written as text
// (textContent / text nodes), never as HTML.
(() => {
  "use strict";
  const body = document.body;
  const root = body.dataset.root || "";
  const runName = body.dataset.run;
  const runPath = `${root}/runs/${encodeURIComponent(runName)}`;
  const apiPath = `${root}/api/runs/${encodeURIComponent(runName)}`;
  const parts = { header: "run-header", tree: "tree", timeline: "timeline" };
  const details = document.getElementById("details");

  let state = JSON.parse(document.getElementById("initial").textContent);
  // The page of actions shown (a large run is read a page at a time): every poll asks for the same.
  const pageQuery = new URLSearchParams({ offset: String(state.page.offset), limit: String(state.page.limit) });
  const shown = {}; // fragment name -> the HTML last put in
  let selected = null; // selected action id
  let infoKey = null; // what the info part of the panel shows (re-rendered when it changes)
  let reportKey = null; // likewise for the report frame
  let logAfter = 0; // sequence number of the last log line read
  let logsEmpty = true; // the logs box still shows its "no output" placeholder
  let logsChain = Promise.resolve(); // log reads run one after another, never interleaved

  // el("div", {class: "x"}, "text", child): children are text or nodes; attributes are set as
  // attributes, so nothing passed here is ever parsed as HTML.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== null && v !== undefined) node.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  const findAction = (id) => state.actions.find((a) => a.action === id);

  function markSelection() {
    for (const node of document.querySelectorAll("[data-action].selected")) node.classList.remove("selected");
    if (selected === null) return;
    for (const node of document.querySelectorAll(".row[data-action], .tl-row[data-action]")) {
      if (node.dataset.action === selected) node.classList.add("selected");
    }
  }

  function dataTable(items) {
    if (!items.length) return el("p", { class: "muted" }, "none");
    const table = el("table", { class: "data" });
    for (const item of items) {
      const literal = el("details", {}, el("summary", {}, "literal"), el("pre", {}, item.literal));
      table.append(el("tr", {},
        el("td", { class: "name" }, item.name),
        el("td", { class: "type" }, item.type),
        el("td", {}, el("pre", { class: "value" }, item.value), literal)));
    }
    return table;
  }

  function errorBlock(err) {
    const box = el("div", { class: "error" }, el("div", { class: "error-msg" }, err.message),
      el("div", { class: "muted" }, `${err.code} (${err.kind})`));
    if (err.traceback) box.append(el("details", { open: "" }, el("summary", {}, "Traceback"), el("pre", {}, err.traceback)));
    return box;
  }

  function renderInfo(a) {
    const facts = [`${a.icon} ${a.phase}`, a.duration_text, `${a.attempts} attempt${a.attempts === 1 ? "" : "s"}`];
    if (a.cache_hit) facts.push("cache hit");
    if (a.group) facts.push(`group ${a.group}`);
    const info = el("div", { id: "d-info" },
      el("h2", {}, `${a.action} · ${a.task}`),
      el("div", { class: `phase-line` }, el("span", { class: `phase phase-${a.phase}` }, facts[0]), " ",
        el("span", { class: "muted" }, facts.slice(1).join(" · "))));
    if (a.error) info.append(errorBlock(a.error));
    info.append(el("h3", {}, "Inputs"), dataTable(a.inputs), el("h3", {}, "Outputs"),
      a.terminal || a.outputs.length ? dataTable(a.outputs) : el("p", { class: "muted" }, "not yet"));
    document.getElementById("d-info").replaceWith(info);
  }

  function renderReport(a) {
    const box = document.getElementById("d-report");
    box.replaceChildren();
    if (!a.has_report) return;
    // Reports are the task author's HTML: sandboxed without same-origin, so their scripts cannot
    // reach this page (the server also sends a sandbox CSP for them).
    const src = `${runPath}/actions/${encodeURIComponent(a.action)}/report?t=${Date.now()}`;
    box.append(el("h3", {}, "Report"),
      el("iframe", { class: "report", sandbox: "allow-scripts allow-popups", src, title: `report of ${a.action}` }),
      el("a", { href: src, target: "_blank", rel: "noopener" }, "open in a new tab"));
  }

  function renderPanel() {
    if (selected === null) return;
    const a = findAction(selected);
    if (!a) return;
    const key = JSON.stringify([a.phase, a.attempts, a.ended_at, a.error, a.outputs.length, a.duration_text]);
    if (key !== infoKey) {
      infoKey = key;
      renderInfo(a);
    }
    const rkey = JSON.stringify([a.has_report, a.phase, a.attempts]);
    if (rkey !== reportKey) {
      reportKey = rkey;
      renderReport(a);
    }
  }

  function readLogs() {
    const action = selected;
    logsChain = logsChain.then(async () => {
      if (action === null || action !== selected) return;
      const params = new URLSearchParams({ action, exact: "1", after: String(logAfter) });
      try {
        const resp = await fetch(`${apiPath}/logs?${params}`, { cache: "no-store" });
        if (!resp.ok || action !== selected) return;
        const data = await resp.json();
        if (action !== selected) return;
        const pre = document.getElementById("d-logs");
        const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
        if (logsEmpty && data.lines.length) {
          pre.replaceChildren();
          logsEmpty = false;
        }
        for (const line of data.lines) pre.append(el("span", { class: line.stream }, `${line.line}\n`));
        logAfter = data.last;
        if (atEnd) pre.scrollTop = pre.scrollHeight;
      } catch (err) {
        // Server unreachable: the next poll reads from the same place.
      }
    });
    return logsChain;
  }

  function select(id) {
    if (!findAction(id)) return;
    selected = id;
    infoKey = reportKey = null;
    logAfter = 0;
    logsEmpty = true;
    details.replaceChildren(el("div", { id: "d-info" }), el("h3", {}, "Logs"),
      el("pre", { class: "logs", id: "d-logs" }, el("span", { class: "muted" }, "no output")), el("div", { id: "d-report" }));
    markSelection();
    renderPanel();
    readLogs();
    history.replaceState(null, "", `#${encodeURIComponent(id)}`);
  }

  function apply(data) {
    state = data;
    for (const [name, id] of Object.entries(parts)) {
      const html = data.html[name];
      if (shown[name] !== html) {
        document.getElementById(id).innerHTML = html; // rendered and escaped by the server
        shown[name] = html;
      }
    }
    markSelection();
    renderPanel();
  }

  async function poll() {
    try {
      const resp = await fetch(`${apiPath}?html=1&${pageQuery}`, { cache: "no-store" });
      if (resp.ok) apply(await resp.json());
    } catch (err) {
      // Server restarting or gone: keep the page as it is and try again.
    }
    if (selected !== null) await readLogs();
    if (state.run.terminal) body.classList.add("terminal");
    else setTimeout(poll, 1000);
  }

  document.addEventListener("click", (ev) => {
    const target = ev.target.closest("[data-action]");
    if (target && !ev.target.closest("#details")) {
      ev.preventDefault();
      select(target.dataset.action);
    }
  });
  document.addEventListener("keydown", (ev) => {
    const target = ev.target.closest && ev.target.closest(".row[data-action]");
    if (target && (ev.key === "Enter" || ev.key === " ")) {
      ev.preventDefault();
      select(target.dataset.action);
    }
  });

  if (location.hash.length > 1) select(decodeURIComponent(location.hash.slice(1)));
  if (state.run.terminal) body.classList.add("terminal");
  else setTimeout(poll, 1000);
})();
