"""libVLC: the only package that imports ``vlc``.

``deck`` plays one file on a fresh MediaPlayer (the deck protocol of ``engine.deck``), ``output``
makes decks on one libVLC instance for the pulse or alsa output and lists devices, ``probe`` asks
a silent instance whether files open and decode. The facts they rely on are measured and written
down in docs/libvlc.md. Nothing here is imported until an output or a probe is asked for, so a
session on the silent output runs without libVLC installed.
"""
