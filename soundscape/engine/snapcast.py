"""Playing into a Snapcast server, and watching its speakers (docs/rooms.md).

The route: soundscape loads a PulseAudio ``module-pipe-sink`` of its own that writes into the
server's pipe source (the FIFO), in the server's sample format, and plays on that sink exactly as
on any other pulse sink: the decks' gains, the stream-volume gain path, the room meter (the pipe
sink's monitor) and the rise limit are the same. The sink is unloaded when the output closes.
libVLC's own file output would ignore the volume (docs/libvlc.md).

The speakers: Snapcast's JSON-RPC control port (``Server.GetStatus``, newline-delimited JSON over
TCP, 1705 by default) is asked every POLL_S on a thread of its own; the engine reads the last
answer (``speakers()``, never blocking) and warns when one drops and when it is back.

Every change reaches the speakers the server's buffer later (1000 ms by default): the output's
``heard_latency_s`` includes it, so the page can say when a change will be heard.
"""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from soundscape.errors import SoundscapeError

DEFAULT_FORMAT = "48000:16:2"  # Snapcast's own default sample format
DEFAULT_CONTROL = "127.0.0.1:1705"
DEFAULT_BUFFER_S = 1.0  # snapserver's default end-to-end buffer (stream.buffer = 1000 ms)
POLL_S = 1.0  # how often the server is asked for its clients
RPC_TIMEOUT_S = 2.0
FORMAT_PATTERN = r"^(\d{4,6}):(16|24|32):([12])$"
# Snapcast keeps 24-bit samples in 4 bytes (its sample_format.cpp): PulseAudio's s24-32le
PULSE_FORMATS = {"16": "s16le", "24": "s24-32le", "32": "s32le"}
LOST_AFTER_POLLS = 2  # a speaker (or the server) missing this many polls in a row is said lost


@dataclass(frozen=True)
class SnapcastSettings:
    """The room config's snapcast keys (None: Snapcast's defaults)."""

    sample_format: str = DEFAULT_FORMAT
    control: str = DEFAULT_CONTROL  # host:port of the server's JSON-RPC (TCP)
    buffer_s: float = DEFAULT_BUFFER_S  # the server's stream.buffer, as it is configured there
    speakers: tuple[str, ...] = ()  # the speakers the room expects (names or host names)

    def __post_init__(self):
        parse_format(self.sample_format)
        parse_control(self.control)


def parse_format(text: str) -> tuple[int, int, int]:
    """(rate, bits, channels) of a Snapcast sample format such as ``48000:16:2``."""
    found = re.match(FORMAT_PATTERN, text or "")
    if not found:
        raise ValueError(f"snapcast_format must look like 48000:16:2 (rate:bits:channels, "
                         f"bits 16, 24 or 32, 1 or 2 channels), not {text!r}")
    return int(found.group(1)), int(found.group(2)), int(found.group(3))


def parse_control(text: str) -> tuple[str, int]:
    """(host, port) of ``host:port``."""
    host, _, port = (text or "").rpartition(":")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"snapcast_control must look like 127.0.0.1:1705 (host:port), "
                         f"not {text!r}")
    return host.strip("[]"), int(port)


@dataclass
class Speaker:
    """One Snapcast client as the server last reported it."""

    id: str
    name: str
    connected: bool
    latency_ms: int
    expected: bool = False

    def as_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "connected": self.connected,
                "latency_ms": self.latency_ms, "expected": self.expected}


def our_stream(status: dict, fifo: str | None) -> dict | None:
    """The server's stream that reads ``fifo`` (None: none does, or no fifo given)."""
    for stream in (status.get("server") or {}).get("streams") or []:
        uri = stream.get("uri") or {}
        if fifo and uri.get("scheme") == "pipe" and os.path.normpath(
                "/" + str(uri.get("path", "")).lstrip("/")) == os.path.normpath(fifo):
            return stream
    return None


def speakers_from_status(status: dict, expected: tuple[str, ...] = (),
                         stream_id: str | None = None) -> list[Speaker]:
    """The clients of a ``Server.GetStatus`` result (only those playing ``stream_id`` when it is
    given: one server may serve several rooms), plus an absent one for each expected name the
    server does not know; sorted by name."""
    clients = [client for group in (status.get("server") or {}).get("groups") or []
               if stream_id is None or group.get("stream_id") == stream_id
               for client in group.get("clients") or []]
    hosts = [(c.get("host") or {}).get("name") for c in clients]
    found: list[Speaker] = []
    names: list[set[str]] = []
    for client in clients:
        config, host = client.get("config") or {}, client.get("host") or {}
        cid = str(client.get("id") or "")
        # a client started with --instance N (N > 1) has the id "<hostID>#N"
        base = cid.rsplit("#", 1)[0] if re.fullmatch(r".+#\d+", cid) else cid
        # the name given in Snapcast, else the host's when no other client shares it (several
        # clients on one box: headphone stations), else the client's id (--hostID)
        host_name = host.get("name") if hosts.count(host.get("name")) == 1 else None
        name = config.get("name") or host_name or base or "?"
        found.append(Speaker(cid, str(name), bool(client.get("connected")),
                             int(config.get("latency") or 0)))
        names.append({str(n).lower() for n in (name, cid, base, host.get("name")) if n})
    wanted = {n.lower() for n in expected}
    for speaker, known in zip(found, names):
        speaker.expected = bool(known & wanted)
    every = set().union(*names) if names else set()
    for name in expected:
        if name.lower() not in every:
            found.append(Speaker("", name, False, 0, expected=True))
    return sorted(found, key=lambda s: (s.name.lower(), s.id))


class SnapcastControl:
    """Asks the server's JSON-RPC for its clients every POLL_S, on a daemon thread of its own."""

    def __init__(self, control: str, expected: tuple[str, ...] = (), poll_s: float = POLL_S,
                 fifo: str | None = None, sample_format: str = DEFAULT_FORMAT):
        self.host, self.port = parse_control(control)
        self._fifo, self._format = fifo, sample_format
        self._expected = tuple(expected)
        self._poll_s = poll_s
        self._lock = threading.Lock()
        self._speakers: list[Speaker] | None = None  # None: the server has not answered yet
        self._reachable: bool | None = None  # None: not asked yet
        self._seen: set[str] = set()  # clients seen connected since the start
        self._error = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_id = 0
        self.keep = None  # called after each poll, on this thread (the output's pipe sink)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="snapcast-control", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(RPC_TIMEOUT_S + 1.0)

    def snapshot(self) -> tuple[bool | None, list[dict], str]:
        """(server answered last time, None before the first try; the speakers; why not)."""
        with self._lock:
            speakers = [s.as_dict() for s in self._speakers or []]
            if self._speakers is None:  # never answered: the expected ones are not there either
                speakers = [Speaker("", n, False, 0, True).as_dict() for n in self._expected]
            return self._reachable, speakers, self._error

    def poll_once(self) -> None:
        try:
            status = self.request("Server.GetStatus")
        except (OSError, ValueError) as exc:
            with self._lock:
                self._reachable = False
                self._error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                if self._speakers is not None:
                    for speaker in self._speakers:
                        speaker.connected = False
            return
        stream = our_stream(status, self._fifo)
        problem = ""
        if self._fifo and stream is None:
            problem = (f"no stream of the Snapcast server reads {self._fifo}: the speakers "
                       "hear nothing of this room (docs/rooms.md)")
        elif stream is not None:
            theirs = ((stream.get("uri") or {}).get("query") or {}).get("sampleformat")
            if theirs and theirs != self._format:
                problem = (f"the Snapcast stream {stream.get('id')} reads {theirs} and soundscape "
                           f"writes {self._format}: set snapcast_format to {theirs}")
        if self._fifo and stream is None:  # other rooms' speakers are not this room's
            speakers = speakers_from_status({}, self._expected)
        else:
            speakers = speakers_from_status(status, self._expected,
                                            stream.get("id") if stream else None)
        # The server remembers every client it ever had: one that has not been connected since
        # the start, and is not expected, is not this room's news.
        self._seen |= {s.id for s in speakers if s.connected}
        speakers = [s for s in speakers if s.connected or s.expected or s.id in self._seen]
        with self._lock:
            self._reachable, self._error, self._speakers = True, problem, speakers

    def request(self, method: str, params: dict | None = None) -> dict:
        """One JSON-RPC call on a fresh connection; the result, or OSError/ValueError."""
        self._next_id += 1
        call = {"id": self._next_id, "jsonrpc": "2.0", "method": method}
        if params:
            call["params"] = params
        with socket.create_connection((self.host, self.port), timeout=RPC_TIMEOUT_S) as sock:
            sock.sendall((json.dumps(call) + "\r\n").encode())
            deadline = time.monotonic() + RPC_TIMEOUT_S
            buffer = b""
            while True:
                if time.monotonic() > deadline:
                    raise TimeoutError("no answer")
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError("the server closed the connection")
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if not line.strip():
                        continue
                    answer = json.loads(line)
                    if answer.get("id") != call["id"]:  # a notification: not our answer
                        continue
                    if "error" in answer:
                        raise ValueError(f"the server refused {method}: {answer['error']}")
                    return answer.get("result") or {}

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception as exc:  # noqa: BLE001 - an answer of a shape not foreseen
                with self._lock:
                    self._reachable = False
                    self._error = f"an answer soundscape cannot read ({type(exc).__name__})"
                    for speaker in self._speakers or []:
                        speaker.connected = False
            if self.keep is not None:
                try:
                    self.keep()
                except Exception:  # noqa: BLE001 - tried again at the next poll
                    pass
            self._stop.wait(self._poll_s)


_SINKS: dict[str, "PipeSink"] = {}  # this process's pipe sinks, by FIFO (shared, counted)
_SINKS_LOCK = threading.Lock()
_COUNT = iter(range(1, 1 << 30))


class PipeSink:
    """A PulseAudio ``module-pipe-sink`` writing into ``fifo``. One per FIFO in a process: a
    second output on the same FIFO (the page's pre-flight beside the session) shares it, as two
    writers would interleave their samples. ``release`` unloads it when the last user is done.
    ``keep`` (on the control thread) loads it again if the sound server lost it."""

    def __init__(self, fifo: Path, sample_format: str):
        self.fifo, self.sample_format = fifo, sample_format
        self.name = f"soundscape_snapcast_{os.getpid()}_{next(_COUNT)}"
        self.module: int | None = None
        self.ok = False  # the sink was there at the last look
        self.reloads = 0  # how often it was loaded again after the server lost it
        self.users = 0
        self._lock = threading.Lock()

    @classmethod
    def shared(cls, fifo: str, sample_format: str) -> "PipeSink":
        path = Path(fifo).expanduser().resolve()
        if re.search(r"[\s\"'\\]", str(path)):
            raise SoundscapeError(f"the Snapcast FIFO {path} has a space or a quote in its path; "
                                  "give the server and soundscape a plain one (/tmp/snapfifo)")
        if path.exists() and not stat.S_ISFIFO(path.stat().st_mode):
            raise SoundscapeError(f"{path} is not a FIFO: give --device the pipe the Snapcast "
                                  "server reads (its stream source pipe:///...)")
        if not path.parent.is_dir():
            raise SoundscapeError(f"no folder {path.parent} for the Snapcast FIFO")
        with _SINKS_LOCK:
            sink = _SINKS.get(str(path))
            if sink is None:
                sink = cls(path, sample_format)
                sink.open()
                _SINKS[str(path)] = sink
            elif sink.sample_format != sample_format:
                raise SoundscapeError(f"{path} is already written as {sink.sample_format}")
            sink.users += 1
            return sink

    def _args(self) -> str:
        rate, bits, channels = parse_format(self.sample_format)
        return (f"file={self.fifo} sink_name={self.name} format={PULSE_FORMATS[str(bits)]} "
                f"rate={rate} channels={channels} use_system_clock_for_timing=yes "
                f"sink_properties=device.description=soundscape-snapcast")

    def open(self) -> None:
        import pulsectl

        try:
            with pulsectl.Pulse("soundscape-snapcast") as pulse:
                self._unload_orphans(pulse)
                with self._lock:
                    self.module = pulse.module_load("module-pipe-sink", self._args())
                    self.ok = True
        except Exception as exc:  # noqa: BLE001 - pulsectl raises its own kinds
            raise SoundscapeError(f"PulseAudio could not make a pipe sink into {self.fifo} "
                                  f"({type(exc).__name__}: {exc})") from exc

    def _unload_orphans(self, pulse) -> None:
        """Pipe sinks into this FIFO left by a soundscape that died (killed, crashed)."""
        for module in pulse.module_list():
            args = module.argument or ""
            found = re.search(r"sink_name=soundscape_snapcast_(\d+)", args)
            if (module.name == "module-pipe-sink" and found and f"file={self.fifo} " in args
                    and not _alive(int(found.group(1)))):
                pulse.module_unload(module.index)

    def keep(self) -> None:
        """Look for the sink; load it again if the sound server no longer has it."""
        import pulsectl

        with pulsectl.Pulse("soundscape-snapcast-keep") as pulse:
            there = any(sink.name == self.name for sink in pulse.sink_list())
            with self._lock:
                if self.module is None:  # released meanwhile
                    return
                if not there:
                    self.module = pulse.module_load("module-pipe-sink", self._args())
                    self.reloads += 1
                self.ok = True

    def lost(self) -> None:
        self.ok = False

    def release(self) -> None:
        with _SINKS_LOCK:
            self.users -= 1
            if self.users > 0:
                return
            _SINKS.pop(str(self.fifo), None)
        import pulsectl

        with self._lock:
            module, self.module, self.ok = self.module, None, False
        if module is None:
            return
        try:
            with pulsectl.Pulse("soundscape-snapcast") as pulse:
                pulse.module_unload(module)
        except Exception:  # noqa: BLE001 - the server is gone, and the sink with it
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SnapcastOutput:
    """Decks on a pulse sink that feeds the Snapcast server (see the module's docstring)."""

    def __init__(self, fifo: str, settings: SnapcastSettings, health_check=None):
        from soundscape.engine.libvlc.output import VlcOutput

        self.name = "snapcast"
        self.device = fifo
        self.settings = settings
        self.sink = PipeSink.shared(fifo, settings.sample_format)
        try:
            self._inner = VlcOutput("pulse", self.sink.name, health_check=health_check)
        except Exception:
            self.sink.release()
            raise
        # The engine's latency_s is the decks' read-ahead (what must play out before they pause
        # or stop): the pipe sink's. What went into the server plays anyway; the room hears
        # each change the server's buffer later still, which the page and the log say.
        self.latency_s = self._inner.latency_s
        self.heard_latency_s = self._inner.latency_s + settings.buffer_s
        self.control = SnapcastControl(settings.control, settings.speakers,
                                       fifo=str(self.sink.fifo),
                                       sample_format=settings.sample_format)
        self.control.keep = self._keep
        self._reloads_seen = self.sink.reloads
        self.control.start()

    def _keep(self) -> None:
        try:
            self.sink.keep()
        except Exception:
            self.sink.lost()  # no server, or it refused: unhealthy until it is back
            raise

    @property
    def decks(self):
        return self._inner.decks

    def make_deck(self, name, notify):
        return self._inner.make_deck(name, notify)

    def meter(self, settings):
        """The pipe sink's own peak: what goes to every speaker (not what each one plays)."""
        return self._inner.meter(settings)

    def healthy(self) -> bool:
        """The sound server answers and had the pipe sink at the last look (every second, on
        the control thread, which loads it again after a server restart)."""
        if self.sink.reloads != self._reloads_seen:  # a new sink: the decks must move to it,
            self._reloads_seen = self.sink.reloads  # so the engine is told once it was lost
            return False
        return self._inner.healthy() and self.sink.ok

    def speakers(self) -> tuple[bool, list[dict], str]:
        return self.control.snapshot()

    def close(self) -> None:
        self.control.stop()
        try:
            self._inner.close()
        finally:
            self.sink.release()


class SpeakerWatch:
    """What the engine makes of the speakers it is shown (on its own thread, once a second):
    warnings when a speaker drops, comes back, or an expected one is missing, and when the
    server stops or starts answering. ``source`` is the output's ``speakers`` (None: no
    speakers to watch, on every output but snapcast)."""

    def __init__(self, source=None, control: str = ""):
        self._source = source
        self._control = control
        self._connected: dict[str, bool] | None = None  # by speaker key; None: not answered yet
        self._reachable: bool | None = None
        self._problem = ""
        self._last: dict | None = None
        self._said: set[str] = set()  # speakers said lost or missing (their return is said)
        self._down: dict[str, int] = {}  # polls in a row a speaker seen before has been away
        self._names: dict[str, str] = {}

    def state(self) -> dict | None:
        return self._last

    def step(self) -> tuple:
        """What a phone must be told about when it changes."""
        if self._last is None:
            return ()
        return (self._last["reachable"], tuple(
            (s["id"], s["name"], s["connected"], s["latency_ms"]) for s in self._last["clients"]))

    def check(self) -> list[str]:
        if self._source is None:
            return []
        reachable, speakers, error = self._source()
        if reachable is None:  # not asked yet: nothing known, nothing to say
            return []
        self._last = {"reachable": reachable, "clients": speakers, "error": error}
        out: list[str] = []
        if reachable and self._reachable is False:
            out.append("The Snapcast server answers again")
        elif not reachable and self._reachable is not False:
            out.append(f"SNAPCAST SERVER NOT ANSWERING at {self._control} ({error or 'no answer'})"
                       ": the speakers cannot be seen")
        self._reachable = reachable
        if not reachable:
            return out
        if error and error != self._problem:  # answering, but not as this room needs
            out.append(f"SNAPCAST: {error}")
        self._problem = error
        now = {_key(s): s for s in speakers}
        if self._connected is None:  # the first answer: only what is wrong is said
            for key, s in now.items():
                if s["expected"] and not s["connected"]:
                    out.append(f"SPEAKER MISSING: {s['name']} is expected but not connected to "
                               "the Snapcast server")
                    self._said.add(key)
        else:
            # a speaker that stops being listed (deleted, moved to another stream) is lost too;
            # one must be missing LOST_AFTER_POLLS polls in a row (a Wi-Fi blip is not news)
            for key in sorted(set(self._connected) | set(now) | set(self._down)):
                speaker = now.get(key)
                name = speaker["name"] if speaker else self._names.get(key, key)
                if speaker and speaker["connected"]:
                    self._down.pop(key, None)
                    if key in self._said:
                        self._said.discard(key)
                        out.append(f"Speaker {name} is back")
                    continue
                if not self._connected.get(key) and key not in self._down:
                    continue  # never seen playing: nothing lost
                self._down[key] = self._down.get(key, 0) + 1
                if self._down[key] == LOST_AFTER_POLLS and key not in self._said:
                    self._said.add(key)
                    out.append(f"SPEAKER LOST: {name} dropped from the Snapcast server: that "
                               "speaker is silent")
        self._connected = {key: s["connected"] for key, s in now.items()}
        self._names.update({key: s["name"] for key, s in now.items()})
        return out


def _key(speaker: dict) -> str:
    return speaker["name"].lower()
