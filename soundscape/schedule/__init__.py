"""Scheduling: the order tracks play in, the hand-overs between them, and the planned arc.

The engine and the planner share these rules (``sequence``, ``handover``), so ``soundscape plan``
shows track for track what the session plays. ``plan`` lays out the whole arc without playing;
``problems`` lists what only a plan reveals.
"""
