import Crypto
import Foundation
import HTTPTypes

/// The dev console: a chat widget wired to the stage, a live log of invocations (each one's event
/// and response on click), the stage's metrics polled every 2 s with a chart of recent durations,
/// and a link to the OpenAPI document. One
/// self-contained page — no build step, no CDN — so it works offline exactly as served.
enum ConsolePage {
    static let noSniff = HTTPField(name: HTTPField.Name.xContentTypeOptions, value: "nosniff")

    /// The page's headers: it may not be framed (clickjacking), sniffed, or send a referrer, and its
    /// content security policy lets it run only its own inline script and style (by hash) and
    /// connect only to the stage that served it, over HTTP and WebSocket. `authority` is the
    /// request's `Host`, already checked to be one of the stage's own.
    static func securityHeaders(authority: String) -> HTTPFields {
        let policy = "default-src 'none'; script-src '\(scriptHash)'; style-src '\(styleHash)'; "
            + "connect-src 'self' ws://\(authority); img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        var headers = HTTPFields()
        for (name, value) in [("Content-Security-Policy", policy), ("X-Frame-Options", "DENY"), ("X-Content-Type-Options", "nosniff"),
                              ("Referrer-Policy", "no-referrer"), ("Cache-Control", "no-store")] {
            if let name = HTTPField.Name(name) { headers.append(HTTPField(name: name, value: value)) }
        }
        return headers
    }

    static let scriptHash = hash(between: "<script>", and: "</script>")
    static let styleHash = hash(between: "<style>", and: "</style>")

    /// The CSP source `sha256-…` of the page's text between `open` and `close`.
    private static func hash(between open: String, and close: String) -> String {
        guard let start = html.range(of: open), let end = html.range(of: close, range: start.upperBound..<html.endIndex) else {
            return "'none'"
        }
        let digest = SHA256.hash(data: Data(html[start.upperBound..<end.lowerBound].utf8))
        return "sha256-" + Data(digest).base64EncodedString()
    }

    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>local-runtime dev console</title>
<style>
  :root { --ink:#0f172a; --muted:#475569; --line:#cbd5e1; --accent:#1d4ed8; --ok:#166534; --bad:#b91c1c; --bg:#f8fafc; }
  * { box-sizing: border-box; }
  body { margin:0; font:15px/1.45 system-ui, sans-serif; color:var(--ink); background:var(--bg); }
  header { padding:12px 16px; border-bottom:1px solid var(--line); background:#fff; display:flex; gap:12px; align-items:center; flex-wrap:wrap; }
  header h1 { font-size:17px; margin:0; }
  main { display:grid; grid-template-columns: minmax(280px, 420px) 1fr; gap:16px; padding:16px; }
  @media (max-width: 760px) { main { grid-template-columns: 1fr; padding:8px; } }
  section { background:#fff; border:1px solid var(--line); border-radius:10px; display:flex; flex-direction:column; min-height:420px; min-width:0; }
  section h2 { font-size:15px; margin:0; padding:10px 12px; border-bottom:1px solid var(--line); display:flex; justify-content:space-between; align-items:center; }
  #status { font-weight:600; padding:2px 8px; border-radius:999px; font-size:13px; }
  #status.online { background:#dcfce7; color:var(--ok); } #status.offline { background:#fee2e2; color:var(--bad); }
  #messages { list-style:none; margin:0; padding:12px; flex:1; overflow:auto; display:flex; flex-direction:column; gap:8px; max-height:60vh; }
  #messages li { padding:8px 10px; border-radius:10px; max-width:85%; white-space:pre-wrap; overflow-wrap:anywhere; }
  #messages li.user { align-self:flex-end; background:var(--accent); color:#fff; }
  #messages li.assistant { align-self:flex-start; background:#e2e8f0; }
  #messages li.notice { align-self:center; background:#fef3c7; color:#78350f; font-size:14px; }
  #messages li.refusal { align-self:center; background:#fee2e2; color:var(--bad); font-weight:600; }
  form { display:flex; gap:8px; padding:10px; border-top:1px solid var(--line); }
  input[type=text] { flex:1; padding:9px 10px; border:1px solid var(--muted); border-radius:8px; font:inherit; min-width:0; }
  button { padding:9px 14px; border:0; border-radius:8px; background:var(--accent); color:#fff; font:inherit; font-weight:600; cursor:pointer; }
  button:disabled { background:#94a3b8; cursor:not-allowed; }
  :focus-visible { outline:3px solid #f59e0b; outline-offset:2px; }
  table { width:100%; border-collapse:collapse; font:13px/1.4 ui-monospace, monospace; }
  th, td { text-align:left; padding:6px 8px; border-bottom:1px solid #e2e8f0; overflow-wrap:anywhere; }
  .log { overflow:auto; flex:1; max-height:60vh; }
  .replay { display:flex; gap:8px; padding:10px; border-top:1px solid var(--line); flex-wrap:wrap; }
  select { flex:1; min-width:0; padding:8px; font:inherit; border:1px solid var(--muted); border-radius:8px; }
  .side { display:flex; flex-direction:column; gap:16px; min-width:0; }
  section.compact { min-height:0; }
  #log tr { cursor:pointer; } #log tr:hover, #log tr.selected { background:#eff6ff; }
  #detail { margin:0; padding:10px 12px; border-top:1px solid var(--line); font:12px/1.4 ui-monospace, monospace; white-space:pre-wrap; overflow-wrap:anywhere; max-height:40vh; overflow:auto; }
  #latency { display:block; width:100%; height:72px; border-top:1px solid var(--line); }
  #latency rect { fill:var(--accent); } #latency text { font:11px system-ui, sans-serif; fill:var(--muted); }
  .muted { color:var(--muted); font-weight:400; font-size:13px; }
  header a { color:var(--accent); }
  .sr-only { position:absolute; width:1px; height:1px; overflow:hidden; clip:rect(0 0 0 0); }
</style>
</head>
<body>
<header><h1>local-runtime dev console</h1><span id="endpoint" class="muted"></span><a id="openapi" href="/_dev/openapi.yaml">OpenAPI document</a></header>
<main>
  <section aria-labelledby="chat-title">
    <h2 id="chat-title">Chat widget <span id="status" class="offline" role="status" aria-live="polite">Offline</span></h2>
    <ul id="messages" aria-live="polite" aria-label="Conversation"></ul>
    <form id="composer">
      <label for="message" class="sr-only">Message</label>
      <input id="message" type="text" autocomplete="off" placeholder="Ask about shipping, returns, prices…" maxlength="2000" required>
      <button id="send" type="submit" disabled>Send</button>
    </form>
  </section>
  <div class="side">
  <section aria-labelledby="log-title">
    <h2 id="log-title">Invocations <span class="muted">select a row for its event and response</span></h2>
    <div class="log"><table aria-describedby="log-title">
      <thead><tr><th scope="col">function</th><th scope="col">route</th><th scope="col">status</th><th scope="col">ms</th><th scope="col">id</th></tr></thead>
      <tbody id="log"></tbody>
    </table></div>
    <div class="replay">
      <label for="fixture" class="sr-only">Fixture to replay</label>
      <select id="fixture"></select>
      <button id="replay" type="button">Replay fixture</button>
    </div>
    <pre id="detail" aria-live="polite" aria-label="Selected invocation" hidden></pre>
  </section>
  <section class="compact" aria-labelledby="metrics-title">
    <h2 id="metrics-title">Metrics <span id="metrics-updated" class="muted">loading…</span></h2>
    <div class="log"><table aria-describedby="metrics-title">
      <thead><tr><th scope="col">function</th><th scope="col">ok</th><th scope="col">errors</th><th scope="col">messages</th><th scope="col">replies</th><th scope="col">AI errors</th><th scope="col">AI calls</th></tr></thead>
      <tbody id="metrics"></tbody>
    </table></div>
    <svg id="latency" role="img" aria-label="Durations of recent invocations" viewBox="0 0 300 72" preserveAspectRatio="none"></svg>
  </section>
  </div>
</main>
<script>
(() => {
  const params = new URLSearchParams(location.search);
  // ws= may name another stage on this same server, never another server: the console must not be
  // a link that sends what the user types somewhere else.
  function sameHostStage(value) {
    try {
      const url = new URL(value, location.href);
      if ((url.protocol === "ws:" || url.protocol === "wss:") && url.host === location.host) return url.href;
    } catch { }
    return null;
  }
  const requestedStage = params.get("ws");
  const stageUrl = (requestedStage && sameHostStage(requestedStage)) || `ws://${location.host}/dev`;
  const widgetId = params.get("widget_id") || "widget_demo_localhost";
  const sessionId = "console-" + Math.random().toString(36).slice(2, 10);
  // The conversation's token, from the last reply: sent with every message, so that a reconnect
  // continues the conversation (a frame without one starts over on a new connection).
  let conversationToken = null;
  const $ = (id) => document.getElementById(id);
  const messages = $("messages"), status = $("status"), send = $("send"), input = $("message");
  $("endpoint").textContent = stageUrl;
  let socket, opened = false, backoff = 500, streaming = null, countdown = null;

  function add(kind, text) {
    const item = document.createElement("li");
    item.className = kind; item.textContent = text;
    messages.appendChild(item); messages.scrollTop = messages.scrollHeight;
    return item;
  }
  function setOnline(online) {
    status.textContent = online ? "Online" : "Offline";
    status.className = online ? "online" : "offline";
    send.disabled = !online || countdown !== null;
  }
  function refuse(frame) {
    const item = add("notice", "");
    if (frame.error === "rate_limit_exceeded" || frame.error === "temporarily_blocked") {
      let left = frame.retry_after || 1;
      const tick = () => {
        item.textContent = `${frame.message} You can send again in ${left} s.`;
        if (left-- <= 0) { clearInterval(countdown); countdown = null; item.textContent = frame.message + " You can send again now."; setOnline(socket && socket.readyState === 1); }
      };
      clearInterval(countdown); countdown = setInterval(tick, 1000); tick(); setOnline(true);
    } else if (frame.error === "content_filtered") {
      item.textContent = "Not sent: " + frame.message;
    } else {
      item.textContent = frame.message || frame.error || "Something went wrong.";
    }
  }
  function connect() {
    opened = false;
    socket = new WebSocket(`${stageUrl}?sessionId=${sessionId}&widget_id=${encodeURIComponent(widgetId)}`);
    socket.onopen = () => { opened = true; backoff = 500; setOnline(true); };
    socket.onmessage = (event) => {
      let frame; try { frame = JSON.parse(event.data); } catch { return; }
      if (frame.conversation_token) { conversationToken = frame.conversation_token; }
      if (frame.type === "message") { add("assistant", frame.content); }
      else if (frame.type === "delta") { streaming = streaming || add("assistant", ""); streaming.textContent += frame.content; }
      else if (frame.type === "done") { if (streaming) streaming.textContent = frame.content; else add("assistant", frame.content); streaming = null; }
      else if (frame.type === "error") { refuse(frame); }
      else if (frame.message) { add("notice", frame.message); }
    };
    socket.onclose = () => {
      setOnline(false);
      if (!opened) {
        // The handshake itself was refused: $connect turned this page's origin (or session) away.
        if (!document.querySelector("#messages li.refusal")) add("refusal", "This site is not allowed to use this widget (the connection was refused).");
      }
      backoff = Math.min(backoff * 2, 30000);
      setTimeout(connect, backoff);
    };
  }
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || !socket || socket.readyState !== 1) return;
    add("user", text);
    const turn = { action: "sendMessage", message: text, conversation_id: sessionId };
    if (conversationToken) { turn.conversation_token = conversationToken; }
    socket.send(JSON.stringify(turn));
    input.value = ""; input.focus();
  });

  const log = $("log"), detail = $("detail");
  // Each row's record, for its event and response on click; dropped with the row.
  const records = new WeakMap();
  // The latest durations, oldest first, for the latency chart.
  const durations = [], chartLength = 60;
  function logRow(record) {
    const row = document.createElement("tr");
    row.tabIndex = 0;
    for (const value of [record.function, record.route, record.status, record.milliseconds.toFixed(2), record.id]) {
      const cell = document.createElement("td"); cell.textContent = value; row.appendChild(cell);
    }
    records.set(row, record);
    log.prepend(row);
    while (log.children.length > 200) log.lastChild.remove();
    durations.push(record.milliseconds);
    if (durations.length > chartLength) durations.shift();
    plotLatency();
  }
  // An event or response as readable JSON: an event's body (JSON in a string) is shown parsed; a
  // body the stage cut at 16 KB is no longer JSON and is shown as it came.
  function readable(text) {
    if (text === undefined || text === null) return "(none)";
    try {
      const value = JSON.parse(text);
      if (value && typeof value.body === "string" && !value.isBase64Encoded) { try { value.body = JSON.parse(value.body); } catch { } }
      return JSON.stringify(value, null, 2);
    } catch { return text; }
  }
  function showDetail(row) {
    const record = records.get(row);
    if (!record) return;
    for (const selected of log.querySelectorAll("tr.selected")) selected.classList.remove("selected");
    row.classList.add("selected");
    detail.textContent = `${record.function} ${record.route} ${record.id}\n\nevent\n${readable(record.event)}\n\nresponse\n${readable(record.response)}`;
    detail.hidden = false;
  }
  log.addEventListener("click", (event) => { const row = event.target.closest("tr"); if (row) showDetail(row); });
  log.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { const row = event.target.closest("tr"); if (row) { event.preventDefault(); showDetail(row); } }
  });

  const svgNS = "http://www.w3.org/2000/svg", chart = $("latency");
  function plotLatency() {
    chart.replaceChildren();
    const top = Math.max(1, ...durations), width = 300 / chartLength, height = 58;
    durations.forEach((milliseconds, index) => {
      const bar = document.createElementNS(svgNS, "rect"), barHeight = Math.max(1, milliseconds / top * height);
      bar.setAttribute("x", (index * width).toFixed(2)); bar.setAttribute("width", (width * 0.8).toFixed(2));
      bar.setAttribute("y", (72 - barHeight).toFixed(2)); bar.setAttribute("height", barHeight.toFixed(2));
      chart.appendChild(bar);
    });
    const label = document.createElementNS(svgNS, "text");
    label.setAttribute("x", "2"); label.setAttribute("y", "11");
    label.textContent = durations.length ? `last ${durations.length} invocations, max ${top.toFixed(1)} ms` : "no invocations yet";
    chart.appendChild(label);
  }
  plotLatency();

  // The same counters as /metrics, every 2 s while the page is open.
  function showMetrics(functions) {
    const rows = Object.keys(functions).sort().map((name) => {
      const counters = functions[name], row = document.createElement("tr");
      row.dataset.function = name;
      const values = [name, counters.invocations.ok, counters.invocations.error, counters.counts.Messages, counters.counts.Replies,
                      counters.counts.AIErrors, counters.ai_calls];
      values.forEach((value, index) => {
        const cell = document.createElement("td"); cell.textContent = value;
        if (index === 1) cell.className = "invocations";
        row.appendChild(cell);
      });
      return row;
    });
    $("metrics").replaceChildren(...rows);
    $("metrics-updated").textContent = "updated " + new Date().toLocaleTimeString();
  }
  function pollMetrics() {
    fetch("/_dev/metrics.json").then((r) => r.ok ? r.json() : Promise.reject(r.status)).then(showMetrics)
      .catch(() => { $("metrics-updated").textContent = "unavailable"; });
  }
  pollMetrics();
  setInterval(pollMetrics, 2000);
  if (requestedStage && stageUrl !== sameHostStage(requestedStage)) add("notice", "ws= must name a stage on this host; using " + stageUrl);
  if (!requestedStage || stageUrl !== sameHostStage(requestedStage)) {
    const feed = new EventSource("/_dev/log");
    feed.onmessage = (event) => logRow(JSON.parse(event.data));
    // Connect once the log listens, so that the page's own $connect shows up in it.
    feed.onopen = () => { if (!socket) connect(); };
    // The widget greets first, as the embedded widget does before anyone types.
    fetch(`/_dev/widget?widget_id=${encodeURIComponent(widgetId)}`).then((r) => r.ok ? r.json() : null).then((widget) => {
      if (widget && widget.greeting) messages.prepend(Object.assign(document.createElement("li"), { className: "assistant", textContent: widget.greeting }));
    }).catch(() => { });
    fetch("/_dev/fixtures").then((r) => r.json()).then((files) => {
      for (const file of files) { const option = document.createElement("option"); option.value = option.textContent = file; $("fixture").appendChild(option); }
    });
    $("replay").addEventListener("click", () => {
      const path = $("fixture").value;
      if (path) fetch("/_dev/replay", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ path }) });
    });
  } else {
    $("replay").disabled = true;
    connect();
  }
})();
</script>
</body>
</html>
"""#
}
