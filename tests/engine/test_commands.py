"""Command parsing: the closed set of actions and their parameters, with exact messages."""

import pytest

from soundscape.engine.commands import Action, CommandError, parse_command


def test_a_valid_command_with_defaults():
    cmd = parse_command({"action": "extend", "by": "Ana"})
    assert (cmd.action, cmd.params, cmd.by, cmd.source) == (Action.EXTEND, {}, "Ana", "api")
    assert parse_command({"action": "fade_out"}).params == {}  # the room's default applies
    assert parse_command({"action": "set_level", "level": 55}).params == {"level": 55.0}


@pytest.mark.parametrize("body, message", [
    ([], 'the body must be a JSON object like {"action": "pause"}'),
    ({}, "'action' is required and must be a string"),
    ({"action": 3}, "'action' is required and must be a string"),
    ({"action": "louder"}, "unknown action 'louder'; valid actions: start, pause, resume, skip, "
                           "next_phase, extend, hold, release, set_level, hush, unhush, fade_out, "
                           "stop, dose, booster, intensity, play_next, ban, ack_cue, note"),
    ({"action": "set_level"}, "set_level needs 'level' (0-100)"),
    ({"action": "set_level", "level": "50"}, "'level' must be a number, not '50'"),
    ({"action": "set_level", "level": True}, "'level' must be a number, not True"),
    ({"action": "set_level", "level": 150}, "'level' must be between 0 and 100, not 150"),
    ({"action": "set_level", "level": float("nan")}, "'level' must be a number, not nan"),
    ({"action": "extend", "minutes": 0}, "'minutes' must be between 0.5 and 120, not 0"),
    ({"action": "pause", "level": 3}, "pause takes no parameter 'level' (parameters: none)"),
    ({"action": "pause", "by": 7}, "'by' must be a string"),
])
def test_bad_commands_are_refused_with_a_message(body, message):
    with pytest.raises(CommandError) as info:
        parse_command(body)
    assert str(info.value) == message


def test_by_is_trimmed_and_stripped_of_control_characters():
    assert parse_command({"action": "pause", "by": "  Ana\x1b[31m  " + "x" * 100}).by == ("Ana[31m  " + "x" * 100)[:40]


def test_huge_and_infinite_numbers_are_out_of_range_not_a_crash():
    for value in (10**400, float("inf"), -10**30):
        with pytest.raises(CommandError) as info:
            parse_command({"action": "set_level", "level": value})
        assert str(info.value).startswith("'level' must be between 0 and 100, not ")
