"""Bring your own SLOs: read Sloth, Pyrra, OpenSLO and slo-generator specs into :class:`SLOSpec`
with the alert policy each tool generates (``srekit import``, ``slo.import`` in service.yaml).

One module per format (:mod:`.sloth`, :mod:`.pyrra`, :mod:`.openslo_v1`, :mod:`.slogen`), the
PromQL shapes srekit can turn into counters (:mod:`.promql`), line-aware YAML (:mod:`.source`),
the result type (:mod:`.model`), the SLOs written in service.yaml (:mod:`.explicit`) and the
entry points (:mod:`.read`). Whatever cannot be mapped is listed in
:attr:`~.model.ImportResult.unmapped` with the file, line and reason; never dropped.
"""
