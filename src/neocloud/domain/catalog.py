"""The GPU catalog: what each GPU model is, and the power its node draws.

Every figure carries the tag of its source in ``../shared/reference/economics.md``
(section 7 resolves the tags). A fleet file may add models of its own (older or
exotic GPUs found in imported inventories); those have no source here and may leave
their power unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class GpuModel:
    """One GPU model as deployed: the GPU and the node (or tray) that carries it.

    ``gpus_per_node`` is the GPUs in one schedulable server (an HGX board, or one
    compute tray of an NVL72 rack). ``nvlink_domain_gpus`` is the GPUs sharing one
    NVLink fabric: equal to ``gpus_per_node`` for HGX nodes, 72 for NVL72 racks.
    ``node_power_kw`` is the node's maximum IT draw (for an NVL rack, the rack's
    power divided by its compute trays); ``None`` when unknown.
    """

    name: str
    memory_gb: float | None
    tdp_w: float | None
    gpus_per_node: int
    node_power_kw: float | None
    nvlink_domain_gpus: int
    all_in_kw_per_gpu: float | None = None
    aliases: tuple[str, ...] = ()
    sources: Mapping[str, str] = field(default_factory=dict)
    builtin: bool = False

    @property
    def nodes_per_nvlink_domain(self) -> int:
        """Nodes that share one NVLink domain (1 for HGX, 18 for NVL72)."""
        return self.nvlink_domain_gpus // self.gpus_per_node

    @property
    def rack_scale(self) -> bool:
        """True when the NVLink domain spans a rack of nodes (NVL72-style)."""
        return self.nvlink_domain_gpus > self.gpus_per_node


def _hgx(name: str, **kw: object) -> GpuModel:
    return GpuModel(name=name, builtin=True, **kw)  # type: ignore[arg-type]


BUILTIN_MODELS: tuple[GpuModel, ...] = (
    _hgx(
        "H100",
        memory_gb=80.0,
        tdp_w=700.0,
        gpus_per_node=8,
        node_power_kw=10.2,
        nvlink_domain_gpus=8,
        all_in_kw_per_gpu=1.73,
        aliases=("H100-SXM", "H100 SXM", "H100-SXM5-80GB", "H100-80GB"),
        sources={
            "memory_gb": "[R90] Llama 3: '700W TDP, 80GB HBM3'",
            "tdp_w": "[R90]",
            "node_power_kw": "[R12] DGX/HGX H100 10.2 kW max (6 x 3.3 kW PSUs)",
            "all_in_kw_per_gpu": "[R1] SemiAnalysis all-in provisioned power",
        },
    ),
    _hgx(
        "H200",
        memory_gb=141.0,
        tdp_w=700.0,
        gpus_per_node=8,
        node_power_kw=10.2,
        nvlink_domain_gpus=8,
        all_in_kw_per_gpu=1.73,
        aliases=("H200-SXM", "H200-SXM-141GB"),
        sources={
            "memory_gb": "[R70] MLPerf system 'H200-SXM-141GBx8'",
            "tdp_w": "[R12]",
            "node_power_kw": "economics.md 2.5 counts Hopper nodes at 10.2 kW per 8 GPUs [R12]",
            "all_in_kw_per_gpu": "[R1]",
        },
    ),
    _hgx(
        "B200",
        memory_gb=180.0,
        tdp_w=1000.0,
        gpus_per_node=8,
        node_power_kw=14.3,
        nvlink_domain_gpus=8,
        all_in_kw_per_gpu=2.17,
        aliases=("B200-SXM", "B200-SXM-180GB", "DGX-B200"),
        sources={
            "memory_gb": "[R70] MLPerf system 'B200-SXM-180GBx8'",
            "tdp_w": "[R14][R16] 1,000 W (HGX)",
            "node_power_kw": "[R11] DGX B200 14.3 kW max",
            "all_in_kw_per_gpu": "[R1]",
        },
    ),
    _hgx(
        "GB200",
        memory_gb=186.0,
        tdp_w=1200.0,
        gpus_per_node=4,
        node_power_kw=120.0 / 18,
        nvlink_domain_gpus=72,
        all_in_kw_per_gpu=2.10,
        aliases=("GB200-NVL72", "GB200 NVL72", "GB200-186GB"),
        sources={
            "memory_gb": "[R70] MLPerf system 'GB200-NVL72_GB200-186GB'",
            "tdp_w": "[R14][R16] ~1,200 W per chip",
            "node_power_kw": "[R14] NVL72 rack ~120 kW, shared by 18 compute trays of 4 GPUs",
            "all_in_kw_per_gpu": "[R1]",
        },
    ),
    _hgx(
        "GB300",
        memory_gb=288.0,
        tdp_w=1400.0,
        gpus_per_node=4,
        node_power_kw=6.6,
        nvlink_domain_gpus=72,
        aliases=("GB300-NVL72", "GB300 NVL72"),
        sources={
            "memory_gb": "NVIDIA GB300 NVL72 product page: 288 GB HBM3e per GPU (not in economics.md)",
            "tdp_w": "[R13] 1,400 W per GPU (Morgan Stanley model)",
            "node_power_kw": "[R13] compute tray 6.6 kW; rack 120-150 kW (section 6 defaults)",
        },
    ),
)


class GpuCatalog:
    """Look GPU models up by name or alias, case-insensitively."""

    __slots__ = ("_by_key", "_models")

    def __init__(self, models: Iterable[GpuModel]) -> None:
        self._models: dict[str, GpuModel] = {}
        self._by_key: dict[str, GpuModel] = {}
        for model in models:
            self._models[model.name] = model
            for key in (model.name, *model.aliases):
                self._by_key[key.casefold()] = model

    def get(self, name: str) -> GpuModel | None:
        """The model called ``name`` (or one of its aliases), or ``None``."""
        return self._by_key.get(name.casefold())

    def names(self) -> list[str]:
        """Canonical model names, in catalog order."""
        return list(self._models)

    def models(self) -> list[GpuModel]:
        """All models, in catalog order."""
        return list(self._models.values())

    def with_models(self, extra: Iterable[GpuModel]) -> GpuCatalog:
        """A catalog with ``extra`` models added after these ones."""
        return GpuCatalog([*self._models.values(), *extra])


def builtin_catalog() -> GpuCatalog:
    """The catalog of built-in models (H100, H200, B200, GB200, GB300)."""
    return GpuCatalog(BUILTIN_MODELS)
