// The control page (a module): live state over SSE; nothing shown unless known.
const $ = (id) => document.getElementById(id), mk = (tag) => document.createElement(tag);
const CONFIRM_MS = 3000, DOUBLE_TAP_MS = 500, SILENT_MS = 2500, ERROR_GRACE_MS = 1000;
const SEND_TIMEOUT_MS = 4000, DRAG_SLOP_PX = 8;
let state = null, receivedAt = 0, es = null, heardAt = 0, online = false, errorTimer = 0;
let msgTimer = 0, drag = null, pendingLevel = null, lock = null, noticeKey = "", frozen = null, tried = 0;
let name = localStorage.getItem("soundscape.name") || "";
let pfRunning = false, pfTimer = 0, pfLoaded = false, badgeKey = "", warnKey = "";
let keys = {}, tracks = null, asked = 0, notedTimer = 0, noteBusy = false;
const buzzed = new Set();

function fmt(s) {
  s = Math.max(0, Math.round(s || 0));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return (h ? h + ":" + String(m).padStart(2, "0") : String(m)) + ":" + String(r).padStart(2, "0");
}
function mmss(s, up) { // up: counting up
  s = Math.max(0, (up ? Math.floor : Math.ceil)(s || 0));
  return String(Math.floor(s / 60)).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0");
}
const pct = (v) => Math.round(v) + "%";
// The session clock runs while playing and paused (the medicine does not pause); it stops when
// the page stops hearing the server.
const live = (s) => s && (s.status === "playing" || s.status === "paused");
const sinceS = () => (frozen !== null ? frozen : live(state) ? (performance.now() - receivedAt) / 1000 : 0);
function text(id, value) { const el = $(id); if (el.textContent !== value) el.textContent = value; }
const firstPending = (s) => ((s.analysis && s.analysis.first_pending) || []).length > 0;
const buzz = (ms) => { try { return !!navigator.vibrate && navigator.vibrate(ms); } catch (e) { return false; } }; // true: it did
function span(t, cls) { const e = mk("span"); e.className = cls || "sub"; e.textContent = t; return e; }
// Rebuilt only when what it shows changed: an armed button or a live region is left alone.
function changed(name, value) { const k = JSON.stringify(value); if (keys[name] === k) return false; keys[name] = k; return true; }
// A step of the phase's intensity is possible while the phase has music on that side of it.
const further = (s, dir) => s.intensity != null &&
  (s.intensities || []).some((x) => (dir === "deeper" ? x > s.intensity : x < s.intensity));
const playing = (s, path) => live(s) && !!s.track && s.track.path === path;
const about = (t) => (t.intensity != null ? " · intensity " + t.intensity : "") + (t.duration_s != null ? " · " + fmt(t.duration_s) : "");
// Why the engine would refuse to put a track next (steering.py), or "".
const nextWhy = (s, p) => { const q = s.queue || [];
  return playing(s, p) ? "Playing now" : q.includes(p) ? "In the queue" : (s.banned || []).some((t) => t.path === p) ? "Banned"
    : q.length >= 10 ? "Queue full (10)" : ""; };

function applies(action, s, b) {
  if (!online || !s) return false;
  const open = live(s) && !s.ending, phases = s.phases || [], m = s.medicine, d = b ? b.dataset : {};
  const going = s.status !== "ended" && !s.ending;
  switch (action) {
    case "start": return s.status === "ready" && !pfRunning && !firstPending(s);
    case "pause": return s.status === "playing" && !s.ending;
    case "resume": return s.status === "paused" && !s.ending;
    case "skip": return s.status === "playing" && !s.ending;
    case "next_phase": return open && !!s.phase && s.phase.index < phases.length - 1 && !(m && m.awaiting_dose);
    case "extend": case "hold": case "release": return open && !!s.phase;
    case "hush": case "unhush": case "set_level": case "fade_out": return open;
    case "stop": return live(s) && s.ending_kind !== "stop"; // cuts a slow fade-out short
    case "dose": return open && !!m && m.dosed_at_s == null;
    case "booster": {
      const at = m ? phases.findIndex((p) => p.name === m.booster_phase) : -1;
      return open && !!m && m.dosed_at_s != null && at >= 0 && !!s.phase && s.phase.index <= at;
    }
    case "intensity": return going && (!("now" in d) || s.status === "playing") && !!s.phase && further(s, d.dir);
    case "play_next": return going && !nextWhy(s, d.path);
    case "ban": return going;
    case "ack_cue": case "note": return true;
  }
  return false;
}

// What a second tap will do, said on the button after the first.
function consequence(b) {
  const s = state || {}, phases = s.phases || [], i = s.phase ? s.phase.index : -1;
  const next = phases[i + 1] ? phases[i + 1].name : "the next phase";
  const fadeS = Number($("fadesecs").value), stopS = Math.round((s.extras || {}).stop_fade_s || 3);
  return {
    stop: "end the session in " + stopS + " s",
    fade_out: "fade out over " + (fadeS >= 120 ? fadeS / 60 + " min" : fadeS + " s") + ", then end",
    next_phase: "go on to " + next + " now",
    dose: "mark the dose now" + (s.medicine && s.medicine.awaiting_dose ? "; " + next + " begins" : ""),
    booster: "mark a booster now",
    intensity: nowTo(s, b.dataset.dir),
    ban: playing(s, b.dataset.path) ? "ban it; " + away(s, b.dataset.path) : "ban it for the whole session",
    ack_cue: "done, for every phone",
  }[b.dataset.action] || "confirm";
}

// "now": to the pool nearest the new step (ties: the way it moves), unless the track playing is of it.
function nowTo(s, dir) {
  const up = dir === "deeper" ? 1 : -1, to = s.intensity + up, t = s.track;
  const pool = (s.intensities || []).slice().sort((a, b) => Math.abs(a - to) - Math.abs(b - to) || up * (b - a))[0];
  return t && t.intensity === pool && !t.queued ? "the track playing is already intensity " + pool + "; the next one follows it"
    : "crossfade to intensity " + pool + " now";
}
// Banning the track playing (steering.py _away): paused, it stops; else the next track of the
// phase (or the queue) crossfades in; with none left the next phase begins, or only the bed plays.
function away(s, path) {
  const out = (s.banned || []).map((t) => t.path).concat(path), p = s.phase, ph = s.phases || [];
  if (s.status === "paused") return "it stops now";
  if ((s.queue || []).concat(((tracks || {}).tracks || []).filter((t) => !t.banned).map((t) => t.path))
    .some((x) => !out.includes(x))) return "it crossfades away now";
  return !p || p.index >= ph.length - 1 || p.held || p.overrun_s > 0 || (s.medicine || {}).awaiting_dose
    ? "only the ambience plays on" : ph[p.index + 1].name + " begins now";
}

// A state is believed when it is newer than the one shown, or from another server start
// (epoch) or session: a restarted server counts revisions from 1 again.
function render(s) {
  if (state && s.epoch === state.epoch && s.session_id === state.session_id && s.revision < state.revision) return;
  announce(state, s);
  state = s; receivedAt = performance.now();
  draw();
}

function announce(old, s) {
  const known = old ? old.session_id : sessionStorage.getItem("soundscape.session");
  sessionStorage.setItem("soundscape.session", s.session_id);
  let line = "";
  if (known && known !== s.session_id) line = "A new session started. The one before has ended.";
  else if (old && old.epoch !== s.epoch) {
    line = s.resumed ? "The player restarted and resumed the session after " +
      fmt(s.interruption_s || 0) + " down." : "The player restarted.";
  }
  const key = s.session_id + s.epoch;
  if (line && key !== noticeKey) { noticeKey = key; text("noticetext", line); $("notice").hidden = false; }
}

function draw() {
  const s = state; if (!s) return;
  const m = s.medicine, room = s.room || {}, held = !!(s.phase && s.phase.held);
  const mode = s.status === "ended" ? "ended" : s.ending ? "fading" : s.status === "paused" ? "paused"
    : s.hushed && s.status === "playing" ? "hushed" : s.status;
  $("statebox").className = "statebox s-" + mode;
  text("status", { ready: "Ready", playing: "Playing", paused: "Paused", hushed: "Hushed",
    fading: s.ending_kind === "stop" ? "Quieting the room" : "Fading out", ended: "Session ended" }[mode] || s.status);
  text("phase", s.status === "ended" ? s.title || "—" : s.phase ? s.phase.name : (s.title || "—"));
  const play = $("play");
  play.dataset.action = { ready: "start", playing: "pause", paused: "resume" }[s.status] || "";
  play.textContent = { ready: "Start", playing: "Pause", paused: "Resume" }[s.status] || "Ended";
  const hold = $("hold"), hush = $("hush");
  hold.dataset.action = held ? "release" : "hold";
  hold.textContent = held ? "Release hold" : "Hold phase";
  hold.classList.toggle("on", held);
  hush.dataset.action = s.hushed ? "unhush" : "hush";
  hush.textContent = s.hushed ? "Unhush" : "Hush";
  hush.classList.toggle("on", !!s.hushed);
  const np = document.querySelector('[data-action="next_phase"]');
  if (!np.dataset.armedAt) np.textContent = m && m.awaiting_dose ? "Next phase: mark the dose first" : "Next phase";
  document.querySelectorAll("button[data-action]").forEach((b) => dress(b, s));
  const levelOk = applies("set_level", s);
  ["down", "up", "fadesecs"].forEach((id) => { $(id).disabled = !(id === "fadesecs" ? applies("fade_out", s) : levelOk); });
  $("level").classList.toggle("off", !levelOk);
  $("level").setAttribute("aria-disabled", String(!levelOk));
  if (!levelOk) drag = null;
  const badges = [];
  if (room.muted) badges.push(["Speaker muted", " alarm"]);
  if (held) badges.push(["Phase held", " on"]);
  if (m && m.awaiting_dose) badges.push(["Waiting for the dose", " on"]);
  if (s.output === "none") badges.push(["No audio output", ""]);
  if (room.volume_pct != null && Math.round(room.volume_pct) !== 100) {
    badges.push(["Speaker volume " + Math.round(room.volume_pct) + "%", ""]);
  }
  // rebuilt only on change: a live region, read out once
  const key = JSON.stringify(badges);
  if (key !== badgeKey) {
    badgeKey = key;
    const box = $("badges"); box.textContent = "";
    badges.forEach(([label, cls]) => {
      const span = mk("span");
      span.className = "badge" + cls; span.textContent = label; box.appendChild(span);
    });
  }
  renderAnalysis(s);
  renderRoom(room);
  renderSpeakers(s);
  renderPhases(s);
  $("medicine").hidden = !m;
  if (m) {
    const route = { im: "IM", iv: "IV", sublingual: "sublingual" }[m.route] || "";
    const boosters = (m.boosters_s || []).map((b) => "booster at " + fmt(b)).join(", ");
    text("medinfo", m.dosed_at_s != null
      ? "Dose marked at " + fmt(m.dosed_at_s) + (boosters ? " · " + boosters : "")
      : (route ? route + " dose" : "Dose") + " not marked yet" +
        (m.awaiting_dose ? ": this phase goes on until it is" : ""));
  }
  renderWarnings(s);
  renderMusic(s);
  renderCues(s);
  if (changed("notes", s.notes)) {
    const ul = $("notelist"); ul.textContent = "";
    (s.notes || []).slice().reverse().forEach((n) => {
      const li = mk("li");
      li.append(span(fmt(n.at_s), "wtime"), " " + n.text, span(" · " + [n.by, n.phase].filter(Boolean).join(" · ")));
      ul.appendChild(li);
    });
  }
  $("notesend").disabled = !online || noteBusy;
  $("preflight").hidden = s.status !== "ready";
  $("pfbtn").disabled = pfRunning || !online;
  if (s.status === "ready" && !pfLoaded) { pfLoaded = true; pollPreflight(); }
  renderLevel(s);
  tick();
  if (live(s)) wake(); else unwake();
}

function renderPhases(s) {
  const phases = s.phases || [], cur = s.phase ? s.phase.index : s.status === "ended" ? phases.length : -1;
  const segs = $("segs"), list = $("phaselist");
  segs.textContent = ""; list.textContent = "";
  phases.forEach((p, i) => {
    const cls = i === cur ? "cur" : i < cur ? "done" : "";
    const d = mk("div");
    d.className = "seg " + cls; d.style.flexGrow = String(Math.max(p.duration_s, 1));
    segs.appendChild(d);
    const li = mk("li");
    li.className = cls;
    const a = mk("span"), b = mk("span");
    a.textContent = (i === cur ? "▸ " : "") + p.name;
    b.textContent = fmt(p.start_s) + "–" + fmt(p.start_s + p.duration_s);
    li.append(a, b); list.appendChild(li);
  });
}

// The next tracks; the picker of this phase's tracks follows what plays, is queued and banned.
function renderMusic(s) {
  const up = s.upcoming || [], i = s.intensity, soft = further(s, "softer"), deep = further(s, "deeper");
  if (changed("next", [up, s.next_track, s.phase && s.phase.name])) {
    const ol = $("next"); ol.textContent = "";
    (up.length ? up : [s.next_track || { title: "—" }]).forEach((t) => {
      const li = mk("li");
      li.append(t.title);
      if (t.phase) li.append(span(about(t) + (s.phase && t.phase !== s.phase.name ? " · " + t.phase : "")));
      if (t.queued) li.append(" ", span("queued", "tag"));
      ol.appendChild(li);
    });
  }
  $("intensity").hidden = i == null;
  text("intout", i + " of 1–5");
  text("inthas", "this phase has " + ((s.intensities || []).join(", ") || "no music"));
  text("intwhy", soft && deep ? "Softer and Deeper change the next track; now crossfades at once"
    : "No " + (soft ? "deeper" : deep ? "softer" : "softer or deeper") + " music in this phase");
  const banned = s.banned || [];
  $("banned").hidden = !banned.length;
  text("banned", "Banned for this session: " + banned.map((t) => t.title).join(", "));
  if (changed("tracks", [s.phase && s.phase.name, s.track && s.track.path, up, s.queue, banned, s.status]) && !$("picker").hidden) loadTracks();
}

// What applies, and a confirmation whose consequence changed is called off.
function dress(b, s) {
  b.disabled = !applies(b.dataset.action, s, b);
  if (b.disabled || b.textContent !== "Tap again: " + consequence(b)) disarm(b);
  named(b);
}
// A picker button's name says its track ("Ban: Low Tide"); Play next says why it is off.
function named(b) {
  const d = b.dataset, why = d.action === "play_next" && state ? nextWhy(state, d.path) : "";
  if (!d.title) return;
  if (d.action === "play_next") b.textContent = why || d.name;
  b.setAttribute("aria-label", (d.armedAt ? b.textContent + " — " : "") + d.name + ": " + d.title + (why ? " — " + why : ""));
}
function btn(label, action, data, confirm) {
  const b = mk("button");
  b.type = "button"; b.textContent = b.dataset.name = label; b.dataset.action = action;
  Object.assign(b.dataset, data);
  if (confirm) b.dataset.confirm = "";
  dress(b, state);
  b.addEventListener("click", () => press(b));
  return b;
}

// Rebuilt only when the list or the search changed: an armed Ban stays armed.
function renderPicker() {
  const ul = $("picklist"), q = $("find").value.trim().toLowerCase();
  if (!changed("picker", [tracks, q])) return;
  ul.textContent = "";
  if (!tracks) return;
  const all = tracks.tracks || [], hits = all.filter((t) => t.title.toLowerCase().includes(q));
  text("pickhead", "Tracks of " + (tracks.phase || "this phase"));
  text("pickmsg", !all.length ? "This phase has no tracks." : q ? hits.length + " of " + all.length + " tracks" : "");
  hits.forEach((t) => {
    const li = mk("li"), p = mk("p");
    p.append(t.title, span(about(t)));
    ["playing", "queued", "banned"].forEach((k) => { if (t[k]) p.append(" ", span(k, "tag")); });
    const row = mk("div"), d = { path: t.path, title: t.title };
    row.className = "row"; // a banned row keeps its height: nothing moves under a finger
    if (t.banned) row.append(btn("Banned", "", d));
    else row.append(btn("Play next", "play_next", d), btn("Ban", "ban", d, true));
    li.append(p, row); ul.appendChild(li);
  });
}
async function loadTracks() {
  const n = ++asked;
  if (!tracks) text("pickmsg", "Loading the tracks…");
  try {
    const r = await fetch("/api/tracks", { credentials: "same-origin", cache: "no-store" });
    if (r.status === 401) { locked(); return; }
    const j = await r.json();
    if (n !== asked || $("picker").hidden) return;
    if (!r.ok) throw j;
    tracks = j;
  } catch (e) {
    if (n !== asked) return;
    tracks = null; text("pickmsg", "Could not load the tracks: close the list and open it again.");
  }
  renderPicker();
}
$("pick").addEventListener("click", () => {
  const open = $("picker").hidden;
  $("picker").hidden = !open; $("pick").setAttribute("aria-expanded", String(open));
  text("pick", open ? "Close the track list" : "Choose a track…");
  tracks = null; asked++; renderPicker();
  if (open) loadTracks();
});
$("find").addEventListener("input", renderPicker);

// A cue just due buzzes each phone once (a phone may refuse until touched: asked again on the
// next touch or wake); Done on one phone clears it on all.
function buzzCues() {
  const s = state, due = s && $("authmsg").hidden ? (s.cues || []).filter((c) => c.status === "due").map((c) => s.session_id + c.id) : [];
  if (due.some((k) => !buzzed.has(k)) && buzz([400, 200, 400])) due.forEach((k) => buzzed.add(k));
}
["pointerdown", "pointerup"].forEach((e) => document.addEventListener(e, buzzCues, true));
// One cue at a time, in a place kept while the session runs: nothing moves when one is due or done.
function renderCues(s) {
  const cues = s.cues || [], due = cues.filter((c) => c.status === "due"), c = due[0], box = $("cues");
  buzzCues();
  box.hidden = !$("authmsg").hidden || !(c || live(s) && cues.length);
  if (changed("cues", [c, due.length])) {
    box.textContent = "";
    if (c) {
      const d = mk("div"), p = mk("p"), w = mk("strong");
      w.textContent = c.text;
      p.append(w, span("Cue, due since " + fmt(c.due_s != null ? c.due_s : c.at_s) + " (" + c.at + ")" +
        (due.length > 1 ? " · +" + (due.length - 1) + " more" : "")));
      d.append(p, btn("Done", "ack_cue", { cue: c.id }, true));
      box.appendChild(d);
    }
  }
  $("cuebox").hidden = !cues.length;
  if (changed("cuelist", cues)) {
    const ul = $("cuelist"); ul.textContent = "";
    cues.forEach((c) => {
      const li = mk("li"), done = c.status === "acked", gone = c.status === "skipped";
      li.className = done || gone ? "done" : "";
      li.append(span((c.at_s != null ? fmt(c.at_s) : gone ? "–" : "after the dose") + (c.status === "due" ? " due" : ""), "wtime"),
        " " + (done ? "✓ " : "") + c.text,
        span(done ? " · done" + (c.acked_by ? " by " + c.acked_by : "") + (c.acked_at_s != null ? " at " + fmt(c.acked_at_s) : "")
          : gone ? " · " + c.at + ", never due" : " · " + c.at));
      ul.appendChild(li);
    });
  }
}

function renderWarnings(s) {
  const w = s.warnings || [], at = s.warnings_at_s || [];
  const key = JSON.stringify([w, at]);
  if (key === warnKey) return;
  warnKey = key;
  $("warnings").hidden = !w.length;
  const list = $("warnlist"); list.textContent = "";
  w.forEach((t, i) => {
    const li = mk("li"), time = mk("span");
    time.className = "wtime"; time.textContent = at[i] == null ? "before start" : "at " + fmt(at[i]);
    li.append(time, " " + t); list.appendChild(li);
  });
}

// The level the room hears now, where it is going, and what it comes back to.
function renderLevel(s) {
  const now = Math.round(s.level), target = Math.round(s.level_target), back = Math.round(s.level_return);
  text("levelnow", s.status === "ready" || s.status === "ended" ? "—" : now === target ? pct(now) : pct(now) + " → " + pct(target));
  let why = "";
  if (s.status === "paused") why = "paused; resumes at " + pct(back);
  else if (s.hushed) why = "hushed; unhush returns to " + pct(back);
  else if (s.level_set_by_hand && live(s)) why = "set by hand until this phase ends";
  else if (live(s) && !s.ending) why = "as planned for this phase";
  text("levelwhy", why);
  const shown = drag && drag.moved ? drag.value : pendingLevel !== null ? pendingLevel : back;
  text("levelout", (drag && drag.moved ? "→ " : "") + pct(shown));
  $("levelfill").style.width = shown + "%";
  $("thumb").style.left = shown + "%";
  $("level").setAttribute("aria-valuenow", String(Math.round(shown)));
}

function renderAnalysis(s) {
  const a = s.analysis, el = $("analysis"), first = !!a && s.status === "ready" && firstPending(s);
  let line = "";
  if (first) line = "Analysing the first tracks… (" + a.done + " of " + a.total + (a.total === 1 ? " file)" : " files)");
  else if (a && s.status !== "ended" && a.done < a.total) line = "Analysing the rest in the background: " + a.done + " of " + a.total;
  text("analysis", line);
  el.hidden = !line;
  el.classList.toggle("first", first);
}

// The room's speaker (a PulseAudio peak meter): -60 dBFS empty, 0 dBFS full.
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

// Snapcast's speakers, each one's connection, and how late every change reaches them.
function renderSpeakers(s) {
  const sp = s.speakers, late = s.output_latency_s || 0;
  $("speakers").hidden = !sp;
  if (!sp) return;
  text("spkhead", (sp.reachable ? "Speakers" : "Speakers: the Snapcast server is not answering") +
    (late >= 0.3 ? " · every change is heard " + late.toFixed(1) + " s after it is made" : ""));
  const rows = sp.clients.map((c) => [c.name + " · " + (!sp.reachable ? "not seen" : c.connected ? "connected" : "NOT CONNECTED") +
    (c.latency_ms ? " · latency " + c.latency_ms + " ms" : ""), !sp.reachable || !c.connected]);
  if (!changed("speakers", rows)) return;
  $("spklist").replaceChildren(...rows.map(([line, lost]) => {
    const li = mk("li"); li.textContent = line; li.classList.toggle("lost", lost); return li;
  }));
}

// Between events the clocks run locally; past a planned end they count the overrun up.
function tick() {
  const s = state; if (!s) return;
  const dt = sinceS(), p = s.phase, m = s.medicine, held = !!(p && p.held), waits = !!(m && m.awaiting_dose);
  let left = "--:--", label = s.status === "ended" ? "" : "left in phase", over = 0;
  if (p) {
    over = p.overrun_s > 0 ? p.overrun_s + dt : held || waits ? Math.max(0, dt - p.remaining_s) : 0;
    if (over > 0) {
      left = "+" + mmss(over, 1);
      label = "over the planned end · " + (held ? "held" : waits ? "waits for the dose" : "last track playing out");
    } else if (held) {
      left = mmss(p.elapsed_s + dt, 1); label = "in phase · held (planned end in " + mmss(p.remaining_s - dt) + ")";
    } else {
      left = mmss(p.remaining_s - dt);
      label = waits ? "left in phase · then waits for the dose" : "left in phase";
    }
  }
  if (s.ending && p) { left = mmss(s.total_s - s.session_elapsed_s - dt); label = "until the session ends"; }
  text("statedetail", s.status === "paused" ? "the session clock goes on"
    : s.hushed && s.status === "playing" && !s.ending ? pct(s.level_target) + " · unhush: " + pct(s.level_return) : "");
  text("left", left); text("leftlabel", label);
  const phases = s.phases || [], at = s.session_elapsed_s + dt;
  const total = s.total_s + (s.total_open && p ? Math.max(0, over - p.overrun_s) : 0);
  text("sess", fmt(at));
  let tail = total ? " of " + fmt(total) : "";
  if (s.status === "ended") tail = " · ended";
  else if (waits) {
    const di = phases.findIndex((x) => x.name === m.dose_phase), d = phases[di];
    tail = d ? " · then " + fmt(s.total_s - d.start_s - d.duration_s) + " after the dose" : "";
  } else if (s.total_open) tail = " of " + fmt(total) + " or more (held)";
  text("total", tail);
  const pos = p && phases[p.index] ? phases[p.index].start_s + p.elapsed_s + dt : at;
  $("marker").style.left = (total ? Math.min(100, (100 * pos) / total) : 0).toFixed(2) + "%";
  const t = s.track;
  text("track", t ? t.title : "—");
  text("trackpos", t ? fmt(Math.min(t.position_s + (s.status === "playing" ? dt : 0), t.duration_s || Infinity)) + " / " + fmt(t.duration_s) : "");
}

function showMsg(m) {
  const el = $("msg"); el.textContent = m; el.hidden = false;
  clearTimeout(msgTimer); msgTimer = setTimeout(() => { el.hidden = true; }, 9000);
}

// Only while online; given up after SEND_TIMEOUT_MS. [status, body] or null.
async function post(url, body) {
  if (!online) { showMsg("Not sent: not connected to the player."); return null; }
  const ctl = new AbortController(), timer = setTimeout(() => ctl.abort(), SEND_TIMEOUT_MS);
  try {
    const r = await fetch(url, { method: "POST", credentials: "same-origin", signal: ctl.signal,
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    let j = {};
    try { j = await r.json(); } catch (e) { /* no JSON body */ }
    if (r.status === 401) { locked(); return null; }
    if (!r.ok) showMsg("Not done: " + (j.error || "error " + r.status));
    return [r.status, j];
  } catch (e) {
    showMsg(ctl.signal.aborted ? "No answer from the player: look at the page before tapping again."
      : "Not sent: no connection to the player.");
    return null;
  } finally { clearTimeout(timer); }
}
// A command carries the epoch it was tapped against: a restarted player refuses it.
async function send(action, params) {
  if (!state) return;
  const a = await post("/api/commands", Object.assign({ action: action, by: name, epoch: state.epoch }, params));
  if (action === "set_level" && params.level === pendingLevel) pendingLevel = null; // the state says
  if (!a) { if (state) renderLevel(state); return; }
  if (action === "start" && a[0] === 409) pollPreflight(); // another phone's pre-flight
  if (a[1].state) render(a[1].state);
  if (a[0] >= 300) return false;
  $("msg").hidden = true; buzz(30);
  if (action === "note") { // what the player wrote down, as it wrote it
    const n = ((a[1].state || state).notes || []).slice(-1)[0];
    text("noted", n ? "Noted: " + n.text : "");
    clearTimeout(notedTimer); notedTimer = setTimeout(() => text("noted", ""), 4000);
  }
  return true;
}

function showPreflight(p) {
  const checks = p.checks || [], bad = checks.filter((c) => !c.ok).length;
  pfRunning = !!p.running;
  text("pfbtn", pfRunning ? "Pre-flight running…" : "Pre-flight check");
  const ul = $("pflist"); ul.textContent = "";
  checks.forEach((c) => {
    const li = mk("li");
    li.className = c.ok ? "" : "fail";
    li.textContent = (c.ok ? "PASS  " : "FAIL  ") + c.name + "  " + c.detail;
    ul.appendChild(li);
  });
  text("pfsum", pfRunning ? "Checking the files, then a soft chime in the room…"
    : p.passed == null ? "" : bad ? bad + " of " + checks.length + " checks failed"
    : "All " + checks.length + " checks passed");
  $("pfsum").classList.toggle("fail", !pfRunning && bad > 0);
  draw();
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
  if (await post("/api/preflight", { by: name })) pollPreflight(); else b.disabled = false;
});

function params(b) {
  const d = b.dataset;
  if (d.minutes) return { minutes: Number(d.minutes) };
  if (d.action === "fade_out") return { seconds: Number($("fadesecs").value) };
  if (d.dir) return { direction: d.dir, now: "now" in d };
  if (d.path) return { path: d.path };
  if (d.cue) return { id: d.cue };
  if (d.text) return { text: d.text };
  return {};
}
function disarm(b) {
  if (!b.dataset.armedAt) return;
  delete b.dataset.armedAt; clearTimeout(Number(b.dataset.timer));
  b.classList.remove("arming"); b.textContent = b.dataset.label; named(b);
}
function press(b) {
  const action = b.dataset.action, now = performance.now();
  if (!action || b.disabled || !online) return;
  // A double tap must not send twice: on a toggle it would pause and resume at once.
  if (now - Number(b.dataset.sentAt || -1e9) < DOUBLE_TAP_MS) return;
  if ("confirm" in b.dataset) {
    const armed = Number(b.dataset.armedAt || 0);
    if (!armed) {
      b.dataset.armedAt = String(now); b.dataset.label = b.textContent;
      b.textContent = "Tap again: " + consequence(b); b.classList.add("arming"); named(b);
      b.dataset.timer = String(setTimeout(() => disarm(b), CONFIRM_MS));
      buzz(15);
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

// The level moves only by a sideways drag of the handle or by − / +: a tap on the track does
// nothing; a vertical scroll starting there scrolls (the browser cancels the pointer).
function setLevel(v) {
  pendingLevel = Math.max(0, Math.min(100, Math.round(v)));
  send("set_level", { level: pendingLevel });
  if (state) renderLevel(state);
}
const slider = $("level"), thumb = $("thumb");
thumb.addEventListener("pointerdown", (e) => {
  if (!applies("set_level", state)) return;
  const base = pendingLevel !== null ? pendingLevel : Math.round(state.level_return);
  drag = { id: e.pointerId, x: e.clientX, y: e.clientY, base: base, value: base, moved: false };
  try { thumb.setPointerCapture(e.pointerId); } catch (err) { /* pointer gone */ }
});
thumb.addEventListener("pointermove", (e) => {
  if (!drag || e.pointerId !== drag.id) return;
  const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
  if (!drag.moved) {
    if (Math.abs(dy) > DRAG_SLOP_PX && Math.abs(dy) > Math.abs(dx)) { drag = null; return; }
    if (Math.abs(dx) < DRAG_SLOP_PX) return;
    drag.moved = true;
  }
  const width = slider.getBoundingClientRect().width || 1;
  drag.value = Math.max(0, Math.min(100, Math.round(drag.base + (100 * dx) / width)));
  renderLevel(state);
});
thumb.addEventListener("pointerup", (e) => {
  const d = drag; drag = null;
  if (d && d.moved && e.pointerId === d.id && applies("set_level", state)) setLevel(d.value);
  else if (state) renderLevel(state);
});
thumb.addEventListener("pointercancel", () => { drag = null; if (state) renderLevel(state); });
slider.addEventListener("keydown", (e) => {
  const step = { ArrowLeft: -5, ArrowDown: -5, ArrowRight: 5, ArrowUp: 5 }[e.key];
  if (!step || e.repeat || !applies("set_level", state)) return;
  e.preventDefault(); stepLevel(step);
});
function stepLevel(step) {
  setLevel((pendingLevel !== null ? pendingLevel : Math.round(state.level_return)) + step);
}
["down", "up"].forEach((id) => $(id).addEventListener("click", () => {
  if (!$(id).disabled && applies("set_level", state)) { stepLevel(Number($(id).dataset.step)); buzz(15); }
}));

// -- the connection: a state or a ping each second, or not connected
function heard() {
  heardAt = performance.now(); clearTimeout(errorTimer); errorTimer = 0;
  if (!online) offline(false);
}
function offline(on, why) {
  if (on && online) frozen = sinceS(); // the clocks stop where they were
  if (!on) frozen = null;
  online = !on;
  document.body.classList.toggle("cut", on);
  $("offline").hidden = !on;
  text("offlinewhy", why || "The page cannot reach the player. Nothing you tap is sent. Trying again…");
  text("conn", on ? "Not connected" : "Live"); $("conn").className = on ? "conn lost" : "conn live";
  if (on) { drag = null; pendingLevel = null; }
  if (state) draw();
}
function lost() { if (online || $("offline").hidden) offline(true); }
setInterval(() => {
  const now = performance.now();
  if (online && now - heardAt > SILENT_MS) { lost(); connect(); }
  else if (!online && $("authmsg").hidden && now - tried > 3000) connect(); // a stuck attempt
}, 250);
function locked() {
  if (es) { es.close(); es = null; }
  online = false;
  $("main").hidden = $("bar").hidden = $("namebox").hidden = $("cues").hidden = true;
  $("offline").hidden = true; $("authmsg").hidden = false;
  text("conn", "Not connected"); $("conn").className = "conn lost";
}
let probing = 0, asking = false; // one probe at a time
async function probe() {
  if (asking) return;
  clearTimeout(probing); asking = true;
  let wait = 1000;
  try {
    const r = await fetch("/api/state", { credentials: "same-origin", cache: "no-store" });
    if (r.status === 401) { locked(); return; }
    if (r.ok) { const s = await r.json(); heard(); render(s); connect(); return; }
    if (r.status === 429) wait = 1000 * Number(r.headers.get("Retry-After") || 30);
  } catch (e) { /* asked again below */ } finally { asking = false; }
  probing = setTimeout(probe, wait);
}
function connect() {
  if (es) es.close();
  tried = performance.now();
  es = new EventSource("/api/events");
  es.addEventListener("state", (e) => { heard(); render(JSON.parse(e.data)); });
  es.addEventListener("ping", heard);
  es.addEventListener("bye", () => { es.close(); es = null; connect(); }); // a stream's planned end
  es.onerror = () => {
    if (!errorTimer) errorTimer = setTimeout(() => { errorTimer = 0; lost(); }, ERROR_GRACE_MS);
    // offline: ask each second (EventSource may wait 3 s)
    if (es && (es.readyState === EventSource.CLOSED || !online)) { es.close(); es = null; probe(); }
  };
}
// A phone that slept may hold a dead connection: start afresh on wake.
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState !== "visible" || !$("authmsg").hidden) return;
  connect(); buzzCues();
  if (state && live(state)) wake();
});

// The screen stays on while a session runs (Screen Wake Lock), taken again once visible.
async function wake() {
  if (lock || !navigator.wakeLock || document.visibilityState !== "visible") return;
  lock = true; // pending
  try {
    const l = await navigator.wakeLock.request("screen");
    lock = l; l.addEventListener("release", () => { lock = null; });
    if (!live(state)) unwake();
  } catch (e) { lock = null; }
}
function unwake() { if (lock && lock.release) { const l = lock; lock = null; l.release().catch(() => {}); } }

$("noteform").addEventListener("submit", async (e) => {
  e.preventDefault();
  const t = $("note").value.replace(/[\x00-\x1f\x7f]/g, "").trim();
  if (!t || noteBusy || !online) return;
  noteBusy = true; $("notesend").disabled = true;
  if (await send("note", { text: t })) $("note").value = "";
  noteBusy = false; $("notesend").disabled = !online;
});

$("noticeok").addEventListener("click", () => { $("notice").hidden = true; });
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

night(!!localStorage.getItem("soundscape.night"));
showName();
offline(true, "Connecting to the player…");
setInterval(tick, 250);
connect();
