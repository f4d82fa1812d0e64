"""CVSS 3.x and 4.0 severities from the API's metric names, scored by the `cvss` package."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cvss import CVSS3, CVSS4
from cvss.exceptions import CVSSError

from bountybox.core.errors import InvalidParameter

# metric name -> (vector key, {API value: vector value})
CIA = {"none": "N", "low": "L", "high": "H"}
CVSS3_METRICS: dict[str, tuple[str, dict[str, str]]] = {
    "attack_vector": ("AV", {"network": "N", "adjacent": "A", "local": "L", "physical": "P"}),
    "attack_complexity": ("AC", {"low": "L", "high": "H"}),
    "privileges_required": ("PR", {"none": "N", "low": "L", "high": "H"}),
    "user_interaction": ("UI", {"none": "N", "required": "R"}),
    "scope": ("S", {"unchanged": "U", "changed": "C"}),
    "confidentiality": ("C", CIA),
    "integrity": ("I", CIA),
    "availability": ("A", CIA),
}
CVSS4_METRICS: dict[str, tuple[str, dict[str, str]]] = {
    "attack_vector": ("AV", {"network": "N", "adjacent": "A", "local": "L", "physical": "P"}),
    "attack_complexity": ("AC", {"low": "L", "high": "H"}),
    "attack_requirements": ("AT", {"none": "N", "present": "P"}),
    "privileges_required": ("PR", {"none": "N", "low": "L", "high": "H"}),
    "user_interaction": ("UI", {"none": "N", "passive": "P", "required": "A", "active": "A"}),
    "vulnerable_confidentiality": ("VC", CIA),
    "vulnerable_integrity": ("VI", CIA),
    "vulnerable_availability": ("VA", CIA),
    "subsequent_confidentiality": ("SC", CIA),
    "subsequent_integrity": ("SI", CIA),
    "subsequent_availability": ("SA", CIA),
}
VERSIONS = {"cvss_3_0_hackerone": "3.0", "cvss_3_1": "3.1", "cvss_4_0": "4.0"}


@dataclass(frozen=True)
class Scored:
    rating: str
    score: float
    vector: str
    metrics: dict[str, str]
    # The severity's calculation_method: cvss_3_0_hackerone, cvss_3_1 or cvss_4_0.
    method: str


def rating_for(score: float) -> str:
    if score == 0:
        return "none"
    if score < 4:
        return "low"
    if score < 7:
        return "medium"
    if score < 9:
        return "high"
    return "critical"


def score_metrics(method: str, given: dict[str, Any]) -> Scored:
    """Builds and scores the vector; a missing or impossible metric is a 400 naming it."""
    version = VERSIONS[method]
    table = CVSS4_METRICS if version == "4.0" else CVSS3_METRICS
    parts = [f"CVSS:{version}"]
    metrics: dict[str, str] = {}
    for name, (key, values) in table.items():
        value = given.get(name)
        if value is None or value not in values:
            raise InvalidParameter(name)
        parts.append(f"{key}:{values[value]}")
        metrics[name] = value
    vector = "/".join(parts)
    try:
        if version == "4.0":
            cvss4 = CVSS4(vector)
            score = float(cvss4.base_score)
            vector = cvss4.clean_vector()
        else:
            cvss3 = CVSS3(vector)
            score = float(cvss3.scores()[0])
            vector = cvss3.clean_vector()
    except CVSSError:
        raise InvalidParameter("calculation_method") from None
    return Scored(
        rating=rating_for(score), score=score, vector=vector, metrics=metrics, method=method
    )


def score_vector(vector: str) -> Scored:
    """Scores a vector string (CVSS:3.0, 3.1 or 4.0) and names its metrics as the API does."""
    version = vector.split("/", 1)[0].removeprefix("CVSS:")
    table = CVSS4_METRICS if version == "4.0" else CVSS3_METRICS
    by_key = {
        key: (name, {v: k for k, v in values.items()}) for name, (key, values) in table.items()
    }
    metrics: dict[str, str] = {}
    for part in vector.split("/")[1:]:
        key, _, value = part.partition(":")
        if key in by_key and value in by_key[key][1]:
            metrics[by_key[key][0]] = by_key[key][1][value]
    method = {"3.0": "cvss_3_0_hackerone", "3.1": "cvss_3_1", "4.0": "cvss_4_0"}.get(version)
    if method is None:
        raise InvalidParameter("cvss_vector_string")
    return score_metrics(method, metrics)
