"""Every knob of a run, validated, in one serialisable object.

The sidebar, the CLI and ``config.json`` all build a :class:`RunConfig`;
nothing else reads settings. It round-trips through JSON and URL query
parameters, so a view can be saved, shared or put in a link.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, fields
from typing import Any, Mapping

from . import limits
from .errors import GatvizError

MODELS = ("gat", "gatv2")
BASELINES = ("gcn",)      # no attention: trained only to compare with (gatviz.compare)
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)  # frozen: hashable, so it can key a cache
class RunConfig:
    dataset: str = "karate"     # built-in name, or "upload" for a user's edge list
    model: str = "gat"          # "gatv2": attention that depends on the query node
    layers: int = 2
    heads: int = 8              # heads of every hidden layer (concatenated)
    hidden: int = 8             # per head; hidden width is heads * hidden
    out_heads: int = 1          # heads of the output layer (averaged)
    dropout: float = 0.6        # on features and on alpha, as in the paper
    lr: float = 0.005
    weight_decay: float = 5e-4
    epochs: int = 200
    seed: int = 0
    device: str = "auto"        # "auto": CUDA when present, else CPU
    snapshot_every: int = 5     # keep eval-mode attention every k epochs (float16)
    directed: bool = False      # uploads: keep edges one-way
    # synthetic stochastic block model ("sbm"): labels are the blocks
    sbm_nodes: int = 300
    sbm_blocks: int = 4
    sbm_p_in: float = 0.1
    sbm_p_out: float = 0.005
    # DictionaryLookup ("dictionary", gatviz.synthetic): keys (and queries) per instance
    dict_size: int = 10
    # mini-batch training (gatviz.minibatch): seeds per step, 0 = full batch (automatic
    # mini-batch past the full-batch caps in gatviz/limits.py); neighbours sampled per hop,
    # one number for every hop or one per layer ("15,10")
    batch_size: int = 0
    fanout: str = "10"

    def __post_init__(self):
        for f in fields(self):   # types first: config.json and URLs carry any JSON value
            value, default = getattr(self, f.name), f.default
            if isinstance(default, bool) and not isinstance(value, bool):
                raise GatvizError(f"{f.name} must be true or false, not {value!r}")
            if isinstance(default, str) and not (isinstance(value, str) and value):
                raise GatvizError(f"{f.name} must be a name, not {value!r}")
        if self.model not in MODELS + BASELINES:
            raise GatvizError(f"model must be gat, gatv2 or gcn, not {self.model!r}")
        if self.device not in DEVICES:
            raise GatvizError(f"device must be auto, cpu or cuda, not {self.device!r}")
        for name in (*limits.INT_RANGES, *limits.FLOAT_RANGES):   # the ranges live in gatviz/limits.py
            if name in self.__dataclass_fields__:
                limits.check(name, getattr(self, name))
        limits.parse_fanout(self.fanout, self.layers)
        if self.sbm_blocks > self.sbm_nodes:
            raise GatvizError(f"sbm_blocks ({self.sbm_blocks}) cannot exceed sbm_nodes ({self.sbm_nodes})")

    def replace(self, **changes: Any) -> "RunConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RunConfig":
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            # repr: a key is the user's text (a line break in it would break the one-line message)
            raise GatvizError(f"unknown setting(s): {', '.join(map(repr, unknown))[:120]}")
        return cls(**dict(data))

    @classmethod
    def from_json(cls, text: str) -> "RunConfig":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise GatvizError(f"config is not valid JSON ({exc.msg}, line {exc.lineno})") from None
        if not isinstance(data, dict):
            raise GatvizError("config JSON must be an object")
        return cls.from_dict(data)

    def to_query(self) -> dict[str, str]:
        """Settings that differ from the defaults, as URL query parameters."""
        default = RunConfig()
        return {f.name: str(getattr(self, f.name)).lower() if isinstance(getattr(self, f.name), bool)
                else str(getattr(self, f.name))
                for f in fields(self) if getattr(self, f.name) != getattr(default, f.name)}

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> "RunConfig":
        """Inverse of :meth:`to_query`; unknown keys are ignored (a URL carries other state too)."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in params:
                continue
            raw = str(params[f.name])
            kind = type(getattr(cls(), f.name))
            try:
                if kind is bool:
                    if raw.lower() not in ("true", "false", "1", "0"):
                        raise ValueError
                    values[f.name] = raw.lower() in ("true", "1")
                else:
                    values[f.name] = kind(raw)
            except ValueError:
                what = {"int": "an integer", "float": "a number"}.get(kind.__name__, kind.__name__)
                raise GatvizError(f"{f.name} in the URL must be {what}, not {raw!r}") from None
        return cls(**values)


# Per-dataset settings that differ from RunConfig's defaults, where the defaults cannot
# learn the task. DictionaryLookup (measured on 2 cores, k = 10, 400 instances, seeds 0-2):
# with the defaults GATv2 stays at chance (test 0.10): uniform attention averages every
# value of an instance into the same vector, and weight decay holds the weights at that
# saddle. One layer (the lookup is one hop; its α is the prediction's), 8 averaged output
# heads, no dropout or weight decay and lr 0.02: GATv2 test 1.00, GAT 0.25-0.31 in 150 epochs.
RECOMMENDED: dict[str, dict[str, Any]] = {
    "dictionary": {"layers": 1, "out_heads": 8, "dropout": 0.0, "weight_decay": 0.0,
                   "lr": 0.02, "epochs": 150},
}


def recommended(dataset: str) -> dict[str, Any]:
    """Settings to use on ``dataset`` in place of RunConfig's defaults ({} for most graphs).

    The CLI applies each one the user did not give as a flag; the app applies them when
    the dataset is chosen. A user's explicit value always wins:
    ``RunConfig(dataset=name, **{**recommended(name), **given})``.
    """
    return dict(RECOMMENDED.get(str(dataset).lower(), {}))
