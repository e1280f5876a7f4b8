"""Toil inventory and automation ROI under uncertainty (report section ``toil``; docs/toil.md).

Toil is "the kind of work tied to running a production service that tends to be manual,
repetitive, automatable, tactical, devoid of enduring value, and that scales linearly as a
service grows" (SRE book, ch. 5 "Eliminating Toil"). The SRE book caps operational work at
50% of each SRE's time; on-call is part of it and sets a floor that no toil log can go below.

One module per concern:

- :mod:`srekit.analysis.toil.log`: the toil log as events on the service's local calendar days;
- :mod:`srekit.analysis.toil.pages`: the estimate from the pages log when there is no toil log;
- :mod:`srekit.analysis.toil.inventory`: hours per task and category, weekly hours and their trend;
- :mod:`srekit.analysis.toil.share`: team size, share of team time against the 50% cap and the
  on-call floor;
- :mod:`srekit.analysis.toil.roi`: three-point (PERT) estimates, the xkcd-1205 break-even and the
  Monte Carlo return on an automation;
- :mod:`srekit.analysis.toil.candidates`: which tasks to automate, with which estimates;
- :mod:`srekit.analysis.toil.analyze`: the :class:`~srekit.analysis.toil.analyze.ToilReport`
  result and the :func:`~srekit.analysis.toil.analyze.analyze_toil` entry point.

Everything here is a pure function over pandas objects: no file I/O, no clock, no printing.
Randomness comes in as a seeded ``numpy.random.Generator``.
"""

SECTION = "toil"
"""Report section of the toil open questions."""
