// soundscape control page: live state over SSE, one tap per command, second tap for destructive ones.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const STATUS = { ready: "Ready", playing: "Playing", paused: "Paused", ended: "Ended" };
  const CONFIRM_MS = 3000, DOUBLE_TAP_MS = 500;
  let state = null, receivedAt = 0, es = null, lostTimer = 0, msgTimer = 0, dragging = false;
  let name = localStorage.getItem("soundscape.name") || "";
  let pfRunning = false, pfTimer = 0, pfLoaded = false, badgeKey = "", fresh = true;

  function fmt(s) {
    s = Math.max(0, Math.round(s || 0));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(r).padStart(2, "0");
  }
  function mmss(s) {
    s = Math.max(0, Math.ceil(s || 0));
    return String(Math.floor(s / 60)).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0");
  }
  const running = () => state && state.status === "playing";
  const sinceS = () => (running() ? (performance.now() - receivedAt) / 1000 : 0);

  function text(id, value) { const el = $(id); if (el.textContent !== value) el.textContent = value; }
  // The engine refuses Start until the tracks heard first are analysed (true length, cue points).
  const firstPending = (s) => ((s.analysis && s.analysis.first_pending) || []).length > 0;

  function applies(action, s) {
    const live = s.status === "playing" || s.status === "paused";
    const open = live && !s.ending;
    const phases = s.phases || [];
    switch (action) {
      case "start": return s.status === "ready" && !pfRunning && !firstPending(s);
      case "pause": return s.status === "playing" && !s.ending;
      case "resume": return s.status === "paused" && !s.ending;
      case "skip": return s.status === "playing" && !s.ending;
      case "next_phase": return open && !!s.phase && s.phase.index < phases.length - 1;
      case "extend": case "hold": case "release": return open && !!s.phase;
      case "hush": case "unhush": case "set_level": case "fade_out": return open;
      case "stop": return s.status !== "ended"; // "Quiet now" also cuts a slow fade-out short
      case "dose": return open && !!s.medicine && s.medicine.dosed_at_s == null;
      case "booster": {
        const m = s.medicine, at = m ? phases.findIndex((p) => p.name === m.booster_phase) : -1;
        return open && !!m && m.dosed_at_s != null && at >= 0 && !!s.phase && s.phase.index <= at;
      }
    }
    return false;
  }

  // ``force``: the first state of a new stream or a fresh fetch is the truth, even with a lower
  // revision (a restarted server resumes the same session_id, counting revisions from 1 again);
  // otherwise an answer older than what the stream already showed is dropped.
  function render(s, force) {
    if (!force && state && s.session_id === state.session_id && s.revision < state.revision) return;
    state = s; receivedAt = performance.now();
    text("status", (STATUS[s.status] || s.status) + (s.ending ? " · fading out" : ""));
    text("phase", s.status === "ended" ? "Session ended" : s.phase ? s.phase.name : (s.title || "—"));
    const play = $("play");
    play.dataset.action = { ready: "start", playing: "pause", paused: "resume" }[s.status] || "";
    play.textContent = { ready: "Start", playing: "Pause", paused: "Resume" }[s.status] || "Ended";
    const hold = $("hold"), hush = $("hush"), held = !!(s.phase && s.phase.held);
    hold.dataset.action = held ? "release" : "hold";
    hold.textContent = held ? "Release hold" : "Hold phase";
    hold.classList.toggle("on", held);
    hush.dataset.action = s.hushed ? "unhush" : "hush";
    hush.textContent = s.hushed ? "Unhush" : "Hush";
    hush.classList.toggle("on", !!s.hushed);
    document.querySelectorAll("button[data-action]").forEach((b) => {
      b.disabled = !applies(b.dataset.action, s);
      if (b.disabled) disarm(b);
    });
    $("level").disabled = !applies("set_level", s);
    $("fadesecs").disabled = !applies("fade_out", s);
    const badges = [], room = s.room || {};
    if (room.muted) badges.push(["Speaker muted", " alarm"]);
    if (held) badges.push(["Phase held", " on"]);
    if (s.hushed) badges.push(["Hushed", " on"]);
    if (s.ending) badges.push(["Fading out", " on"]);
    const m = s.medicine;
    if (m && m.awaiting_dose) badges.push(["Waiting for the dose", " on"]);
    if (s.resumed) badges.push(["Resumed after interruption", ""]);
    if (s.output === "none") badges.push(["No audio output", ""]);
    if (room.volume_pct != null && Math.round(room.volume_pct) !== 100) {
      badges.push(["Speaker volume " + Math.round(room.volume_pct) + "%", ""]);
    }
    // rebuilt only when they change: the room's meter re-renders a few times a second, and the
    // box is a live region (a screen reader hears "Speaker muted" once, not four times a second)
    const key = JSON.stringify(badges);
    if (key !== badgeKey) {
      badgeKey = key;
      const box = $("badges"); box.textContent = "";
      badges.forEach(([label, cls]) => {
        const span = document.createElement("span");
        span.className = "badge" + cls; span.textContent = label; box.appendChild(span);
      });
    }
    renderAnalysis(s);
    renderRoom(room);
    const segs = $("segs"); segs.textContent = "";
    (s.phases || []).forEach((p, i) => {
      const d = document.createElement("div");
      const cur = s.phase ? s.phase.index : -1;
      d.className = "seg" + (i === cur ? " cur" : i < cur ? " done" : "");
      d.style.flexGrow = String(Math.max(p.duration_s, 1));
      d.title = p.name;
      segs.appendChild(d);
    });
    $("medicine").hidden = !m;
    if (m) {
      const route = { im: "IM", iv: "IV", sublingual: "sublingual" }[m.route] || "";
      const boosters = (m.boosters_s || []).map((b) => "booster at " + fmt(b)).join(", ");
      text("medinfo", m.dosed_at_s != null
        ? "Dose marked at " + fmt(m.dosed_at_s) + (boosters ? " · " + boosters : "")
        : (route ? route + " dose" : "Dose") + " not marked yet" +
          (m.awaiting_dose ? ": this phase goes on until it is" : ""));
    }
    const w = s.warnings || [];
    $("warnings").hidden = !w.length;
    const list = $("warnlist"); list.textContent = "";
    w.forEach((t) => { const li = document.createElement("li"); li.textContent = t; list.appendChild(li); });
    const n = (s.phases || []).length, i = s.phase ? s.phase.index : -1;
    text("phasecount", i >= 0 ? " · phase " + (i + 1) + " of " + n + (i + 1 < n ? ", then " + s.phases[i + 1].name : "") : "");
    text("next", s.next_track ? s.next_track.title : "—");
    $("preflight").hidden = s.status !== "ready";
    if (s.status === "ready" && !pfLoaded) { pfLoaded = true; pollPreflight(); }
    if (!dragging) $("level").value = String(Math.round(s.level_target));
    tick();
  }

  function renderAnalysis(s) {
    const a = s.analysis, el = $("analysis"), first = !!a && s.status === "ready" && firstPending(s);
    let line = "";
    if (first) {
      line = "Analysing the first tracks… (" + a.done + " of " + a.total +
        (a.total === 1 ? " file)" : " files)");
    } else if (a && s.status !== "ended" && a.done < a.total) {
      line = "Analysing the rest in the background: " + a.done + " of " + a.total;
    }
    text("analysis", line);
    el.hidden = !line;
    el.classList.toggle("first", first);
  }

  // What the room's speaker carries (a peak meter on PulseAudio), moved only when the state says:
  // -60 dBFS and below is an empty bar, 0 dBFS a full one.
  function renderRoom(r) {
    const heard = r.listening && typeof r.heard_dbfs === "number" ? r.heard_dbfs : null;
    $("room").hidden = heard === null; $("roomnote").hidden = heard !== null;
    if (heard === null) return;
    const db = Math.max(-60, Math.min(0, heard)), label = heard < -60 ? "silence" : Math.round(db) + " dB";
    $("heardbar").style.width = ((100 * (db + 60)) / 60).toFixed(1) + "%";
    text("heard", label);
    const meter = $("heardmeter");
    meter.setAttribute("aria-valuenow", String(Math.round(db)));
    meter.setAttribute("aria-valuetext", label);
  }

  // Between events the clock runs locally, so time left counts down smoothly.
  function tick() {
    const s = state; if (!s) return;
    const dt = sinceS(), held = !!(s.phase && s.phase.held);
    if (s.phase) {
      text("left", mmss(held ? s.phase.remaining_s : s.phase.remaining_s - dt));
      text("leftlabel", held ? "left in phase · held" :
        s.medicine && s.medicine.awaiting_dose ? "left in phase · waits for the dose" : "left in phase");
    } else {
      text("left", "--:--"); text("leftlabel", s.status === "ended" ? "" : "left in phase");
    }
    const phases = s.phases || [];
    const total = phases.length ? phases[phases.length - 1].start_s + phases[phases.length - 1].duration_s : 0;
    const at = s.session_elapsed_s + dt;
    text("sess", fmt(at)); text("total", total ? fmt(total) : "—");
    let pos = s.phase && phases[s.phase.index] ? phases[s.phase.index].start_s + s.phase.elapsed_s + dt : at;
    $("marker").style.left = (total ? Math.min(100, (100 * pos) / total) : 0).toFixed(2) + "%";
    const t = s.track;
    text("track", t ? t.title : "—");
    text("trackpos", t ? fmt(Math.min(t.position_s + dt, t.duration_s || Infinity)) + " / " + fmt(t.duration_s) : "");
    const lvl = Math.round(s.level), target = Math.round(s.level_target);
    text("levelout", lvl === target ? lvl + "%" : lvl + "% → " + target + "%");
    $("meter").style.width = Math.max(0, Math.min(100, s.level)) + "%";
  }

  function showMsg(m) {
    const el = $("msg"); el.textContent = m; el.hidden = false;
    clearTimeout(msgTimer); msgTimer = setTimeout(() => { el.hidden = true; }, 9000);
  }

  async function send(action, params) {
    const body = Object.assign({ action: action, by: name }, params || {});
    let r, j = {};
    try {
      r = await fetch("/api/commands", { method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    } catch (e) { showMsg("Not sent: no connection to the player."); return; }
    try { j = await r.json(); } catch (e) { /* no JSON body */ }
    if (r.status === 401) { locked(); return; }
    if (action === "start" && r.status === 409) pollPreflight(); // another phone's pre-flight
    if (j.state) render(j.state);
    if (!r.ok) showMsg("Not done: " + (j.error || "error " + r.status));
    else $("msg").hidden = true;
  }

  // Pre-flight plays a chime in the room, so it is offered only before the start.
  function showPreflight(p) {
    const checks = p.checks || [], bad = checks.filter((c) => !c.ok).length;
    pfRunning = !!p.running;
    $("pfbtn").disabled = pfRunning;
    text("pfbtn", pfRunning ? "Pre-flight running…" : "Pre-flight check");
    const ul = $("pflist"); ul.textContent = "";
    checks.forEach((c) => {
      const li = document.createElement("li");
      li.className = c.ok ? "" : "fail";
      li.textContent = (c.ok ? "PASS  " : "FAIL  ") + c.name + "  " + c.detail;
      ul.appendChild(li);
    });
    text("pfsum", pfRunning ? "Checking the files, then a soft chime in the room…"
      : p.passed == null ? "" : bad ? bad + " of " + checks.length + " checks failed"
      : "All " + checks.length + " checks passed");
    $("pfsum").classList.toggle("fail", !pfRunning && bad > 0);
    if (state) render(state);
    clearTimeout(pfTimer);
    if (pfRunning) pfTimer = setTimeout(pollPreflight, 1000);
  }
  async function pollPreflight() {
    clearTimeout(pfTimer);
    try {
      const r = await fetch("/api/preflight", { credentials: "same-origin" });
      if (r.status === 401) { locked(); return; }
      if (r.ok) { showPreflight(await r.json()); return; }
    } catch (e) { /* retried below */ }
    pfTimer = setTimeout(pollPreflight, 2000);
  }
  $("pfbtn").addEventListener("click", async () => {
    const b = $("pfbtn"); if (b.disabled) return;
    b.disabled = true;
    let r, j = {};
    try {
      r = await fetch("/api/preflight", { method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify({ by: name }) });
    } catch (e) { b.disabled = false; showMsg("Not sent: no connection to the player."); return; }
    try { j = await r.json(); } catch (e) { /* no JSON body */ }
    if (r.status === 401) { locked(); return; }
    if (!r.ok) showMsg("Not done: " + (j.error || "error " + r.status));
    pollPreflight();
  });

  function params(b) {
    if (b.dataset.minutes) return { minutes: Number(b.dataset.minutes) };
    if (b.dataset.action === "fade_out") return { seconds: Number($("fadesecs").value) };
    return {};
  }
  function disarm(b) {
    if (!b.dataset.armedAt) return;
    delete b.dataset.armedAt; clearTimeout(Number(b.dataset.timer));
    b.classList.remove("arming"); b.textContent = b.dataset.label;
  }
  function press(b) {
    const action = b.dataset.action, now = performance.now();
    if (!action || b.disabled) return;
    // A double tap must not send twice: on a toggle it would pause and resume at once.
    if (now - Number(b.dataset.sentAt || -1e9) < DOUBLE_TAP_MS) return;
    if ("confirm" in b.dataset) {
      const armed = Number(b.dataset.armedAt || 0);
      if (!armed) {
        b.dataset.armedAt = String(now); b.dataset.label = b.textContent;
        b.textContent = "Tap again to confirm"; b.classList.add("arming");
        b.dataset.timer = String(setTimeout(() => disarm(b), CONFIRM_MS));
        return;
      }
      if (now - armed < DOUBLE_TAP_MS) return; // an accidental double tap is one tap
      disarm(b);
    }
    b.dataset.sentAt = String(now);
    send(action, params(b));
  }
  document.querySelectorAll("button[data-action], #play, #hold, #hush").forEach((b) => {
    b.disabled = true; // until the first state says what applies
    b.addEventListener("click", () => press(b));
  });

  const level = $("level");
  level.addEventListener("input", () => { dragging = true; text("levelout", "→ " + level.value + "%"); });
  level.addEventListener("change", () => { dragging = false; send("set_level", { level: Number(level.value) }); });
  level.addEventListener("blur", () => { dragging = false; });

  function setConn(live) {
    const el = $("conn");
    if (live) {
      clearTimeout(lostTimer); lostTimer = 0;
      el.textContent = "Live"; el.className = "conn live"; return;
    }
    // a stream ending on schedule reconnects within a second or two: only say "lost" if it lasts
    // (and keep the first timer: retries every 2 s must not postpone the message forever)
    if (lostTimer || el.classList.contains("lost")) return;
    lostTimer = setTimeout(() => {
      lostTimer = 0; el.textContent = "Connection lost — reconnecting…"; el.className = "conn lost";
    }, 2500);
  }
  function locked() {
    if (es) { es.close(); es = null; }
    clearTimeout(lostTimer); lostTimer = 0; // a pending "reconnecting" must not overwrite this
    $("main").hidden = true; $("namebox").hidden = true; $("authmsg").hidden = false;
    text("conn", "Not connected"); $("conn").className = "conn lost";
  }
  async function probe() {
    try {
      const r = await fetch("/api/state", { credentials: "same-origin" });
      if (r.status === 401) { locked(); return; }
      const wait = r.status === 429 ? 1000 * Number(r.headers.get("Retry-After") || 30) : 2000;
      if (r.ok) render(await r.json(), true);
      setTimeout(connect, wait);
    } catch (e) { setTimeout(connect, 3000); }
  }
  function connect() {
    if (es) es.close();
    es = new EventSource("/api/events");
    fresh = true;
    es.onopen = () => { fresh = true; setConn(true); };
    es.addEventListener("state", (e) => { setConn(true); render(JSON.parse(e.data), fresh); fresh = false; });
    es.onerror = () => {
      setConn(false);
      if (es && es.readyState === EventSource.CLOSED) { es.close(); es = null; probe(); }
    };
  }
  // A phone that slept may hold a dead connection that still looks open: start afresh on wake.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && $("authmsg").hidden) connect();
  });

  function showName() {
    text("who", name ? "Name: " + name : "Set your name");
    $("namebox").hidden = !!name;
  }
  $("who").addEventListener("click", () => {
    $("namebox").hidden = !$("namebox").hidden; $("name").value = name;
    if (!$("namebox").hidden) $("name").focus();
  });
  $("nameform").addEventListener("submit", (e) => {
    e.preventDefault();
    name = $("name").value.trim().slice(0, 40);
    localStorage.setItem("soundscape.name", name);
    showName();
  });

  function night(on) { document.body.classList.toggle("night", on); text("night", on ? "Normal dark mode" : "Red night mode"); }
  $("night").addEventListener("click", () => {
    const on = !document.body.classList.contains("night");
    localStorage.setItem("soundscape.night", on ? "1" : ""); night(on);
  });

  $("logbox").addEventListener("toggle", async () => {
    if (!$("logbox").open) return;
    try {
      const r = await fetch("/api/log", { credentials: "same-origin" });
      if (r.status === 401) { locked(); return; }
      const entries = await r.json(), ol = $("log"); ol.textContent = "";
      entries.slice(-40).reverse().forEach((e) => {
        const li = document.createElement("li");
        const t = String(e.t || "").replace(/^.*T(\d\d:\d\d:\d\d).*$/, "$1");
        const extra = [e.action, e.phase, e.title, e.reason].filter(Boolean).join(" · ");
        li.textContent = t + "  " + e.event + (extra ? " · " + extra : "") + (e.by ? " — " + e.by : "");
        ol.appendChild(li);
      });
    } catch (e) { showMsg("Could not load the log."); }
  });

  night(!!localStorage.getItem("soundscape.night"));
  showName();
  setInterval(tick, 250);
  connect();
})();
