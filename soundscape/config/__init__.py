"""Reading soundscape's YAML files (playlists, the room config): located nodes and typed values.

``yamlnodes`` reads a file into composed YAML nodes that keep their positions and refuses YAML's
traps; ``values`` parses the small value languages (durations, levels, gains) from their text;
``readers`` ties the two together, reporting every mistake as ``file:line:col: message``.
"""
