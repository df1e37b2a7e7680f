"""The built-in laws: every law marked verified in docs/laws.md, with stable ids.

Constants are unrounded where the source gives them; rounded variants are
separate entries. Each entry names its source table or equation; ``domain`` is the
range of the data the authors fitted on.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from flopwise.fitting.bundled import annotate
from flopwise.fitting.counting import ArchFamily
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.forms import checked
from flopwise.fitting.laws import CDefinition, Domain, Law, NDefinition

__all__ = ["BUILTIN_LAWS", "DEFAULT_LAW", "builtin", "builtin_laws"]

DEFAULT_LAW = "epoch-2024"

GPT2_FAMILY = ArchFamily(
    head_dim=64,
    kv_group=1,
    ffn_multiplier=4.0,
    gated_ffn=False,
    vocab_size=50257,
    seq_len=1024,
    tied_embeddings=True,
    positions="learned",
    norm="layernorm",
    bias=True,
)
CHINCHILLA_FAMILY = ArchFamily(
    head_dim=128,
    kv_group=1,
    ffn_multiplier=4.0,
    gated_ffn=False,
    vocab_size=32000,
    seq_len=2048,
    tied_embeddings=False,
    positions="none",
    norm="rmsnorm",
)
GEMSTONES_FAMILY = ArchFamily()
PORIAN_FAMILY = ArchFamily(
    head_dim=64,
    kv_group=1,
    ffn_multiplier=8 / 3,
    ffn_round=256,
    gated_ffn=True,
    vocab_size=50432,
    seq_len=2048,
    positions="rotary",
)
DEEPSEEK_FAMILY = ArchFamily(
    head_dim=128,
    kv_group=1,
    ffn_multiplier=8 / 3,
    ffn_round=128,
    gated_ffn=True,
    vocab_size=102400,
    seq_len=4096,
)

CHINCHILLA_CITE = (
    "Hoffmann et al. 2022, Training Compute-Optimal Large Language Models, arXiv:2203.15556"
)
EPOCH_CITE = "Besiroglu, Erdil, Barnett, You 2024, Chinchilla Scaling: A replication attempt, arXiv:2404.10102"
GEMSTONES_CITE = (
    "McLeish et al. 2025, Gemstones: A Model Suite for Multi-Faceted Scaling Laws, arXiv:2502.06857"
)
PORIAN_CITE = "Porian et al. 2024, Resolving Discrepancies in Compute-Optimal Scaling of Language Models, arXiv:2406.19146"
KRAJEWSKI_CITE = (
    "Krajewski, Ludziejewski et al. 2024, Scaling Laws for Fine-Grained Mixture of Experts, "
    "arXiv:2402.07871"
)
KRAJEWSKI_FAMILY = replace(GPT2_FAMILY, tied_embeddings=False, bias=False)
"""Krajewski et al. §6.1: 4 d^2 attention and an ungated 4 d MLP per block."""
KRAJEWSKI_DOMAIN = Domain(flops=(2.9e17, 6.7e19), params=(1.29e8, 3.7e9), tokens=(1.6e10, 1.3e11))
"""§5: 129M to 3.7B total non-embedding parameters at expansion 64, 16B to 130B tokens;
C = 6 N_active D with N_active = 12/516 of N (3M to 86M active)."""
CHINCHILLA_DOMAIN = Domain(flops=(1.4e18, 1.3e22), params=(5.7e7, 1.62e10), tokens=(2.4e8, 3.2e11))
GEMSTONES_DOMAIN = Domain(flops=(3.4e18, 4.5e21), params=(4.8e7, 2.01e9), tokens=(1.0e10, 3.5e11))
PORIAN_DOMAIN = Domain(flops=(1.25e16, 2.56e19))


def _chinchilla_like(
    law_id: str, title: str, E: float, A: float, B: float, alpha: float, beta: float, **meta: Any
) -> Law:
    return Law(
        id=law_id,
        title=title,
        form="chinchilla",
        constants={"E": E, "A": A, "B": B, "alpha": alpha, "beta": beta},
        **meta,
    )


def _porian(
    law_id: str,
    label: str,
    k: float,
    a: float,
    n_def: NDefinition,
    loss: tuple[float, float, float],
) -> Law:
    return Law(
        id=law_id,
        title=f"Porian et al. 2024, RefinedWeb, '{label}'",
        form="power-law",
        constants={"k_N": k, "a_N": a, "loss_E": loss[1], "loss_A": loss[0], "loss_gamma": loss[2]},
        n_definition=n_def,
        c_definition=CDefinition.SIX_ND,
        family=PORIAN_FAMILY,
        tokenizer="GPT-NeoX (50,432)",
        dataset="RefinedWeb",
        citation=PORIAN_CITE,
        source=f"formll/resolving-scaling-law-discrepancies summary_df fit_results, '{label}', weighted fit; "
        "loss on the frontier from the basic fit L* = E + A C^-gamma",
        domain=PORIAN_DOMAIN,
    )


def builtin_laws() -> tuple[Law, ...]:
    """Construct the catalogue (cheap; :data:`BUILTIN_LAWS` holds one copy)."""
    chin_meta: dict[str, Any] = {
        "family": CHINCHILLA_FAMILY,
        "tokenizer": "SentencePiece (32,000)",
        "dataset": "MassiveText",
        "domain": CHINCHILLA_DOMAIN,
    }
    laws = [
        Law(
            id="kaplan-2020",
            title="Kaplan et al. 2020",
            form="kaplan",
            constants={
                "N_c": 6.4e13,
                "D_c": 1.8e13,
                "alpha_N": 0.076,
                "alpha_D": 0.103,
                "N_e": 1.3e9,
                "p_N": 0.73,
                "C_c_min": 3.1e8,
                "alpha_C_min": 0.050,
                "c_min_fraction": 0.5,
            },
            n_definition=NDefinition.NON_EMBEDDING,
            family=GPT2_FAMILY,
            tokenizer="GPT-2 BPE (50,257)",
            dataset="WebText2",
            citation="Kaplan et al. 2020, Scaling Laws for Neural Language Models, arXiv:2001.08361",
            source="joint L(N,D): Eq. 1.5 with Table 2; N_opt(C_min): Table 6; L(C_min): Eq. 1.3 / Table 5",
            domain=Domain(params=(768, 1.5e9)),
            notes="C_min = C/2 (training at the critical batch size, Eq. 6.7); N_opt at 1e21 FLOPs = 4.68e9.",
        ),
        _chinchilla_like(
            "chinchilla-2022",
            "Chinchilla Approach 3 (unrounded)",
            math.exp(0.5267228),
            math.exp(6.0073404),
            math.exp(6.0179186),
            0.33917084,
            0.2849083,
            citation=CHINCHILLA_CITE,
            source="§3.3 Eq. 2, unrounded constants from the TeX source (App. D.2)",
            **chin_meta,
        ),
        _chinchilla_like(
            "chinchilla-2022-rounded",
            "Chinchilla Approach 3 (as printed)",
            1.69,
            406.4,
            410.7,
            0.34,
            0.28,
            citation=CHINCHILLA_CITE,
            rounded=True,
            source="§3.3 Eq. 10 as printed: E 1.69, A 406.4, B 410.7, alpha 0.34, beta 0.28",
            **chin_meta,
        ),
        Law(
            id="chinchilla-2022-approach1",
            title="Chinchilla Approach 1 projections",
            form="tabulated",
            constants={},
            table=(
                (1.92e19, 4e8, 8.0e9),
                (1.21e20, 1e9, 20.2e9),
                (1.23e22, 1e10, 205.1e9),
                (5.76e23, 6.7e10, 1.5e12),
                (3.85e24, 1.75e11, 3.7e12),
                (9.90e24, 2.8e11, 5.9e12),
                (3.43e25, 5.2e11, 11.0e12),
                (1.27e26, 1e12, 21.2e12),
                (1.30e28, 1e13, 216.2e12),
            ),
            citation=CHINCHILLA_CITE,
            source="Table 3 (Approach 1), interpolated log-log",
            **chin_meta,
        ),
        _chinchilla_like(
            "epoch-2024",
            "Epoch replication of Chinchilla Approach 3",
            math.exp(0.59711196),
            math.exp(6.17795598),
            math.exp(7.64273236),
            0.34781,
            0.36585,
            citation=EPOCH_CITE,
            source="epoch-research/analyzing-chinchilla notebook: maximum likelihood with Huber-shaped "
            "likelihood on the 240 points digitised from Chinchilla Fig. 4",
            **chin_meta,
        ),
        _chinchilla_like(
            "epoch-2024-huber",
            "Epoch data, plain Chinchilla-style Huber fit",
            1.81724,
            477.84,
            2143.86,
            0.347313,
            0.367183,
            citation=EPOCH_CITE,
            source="same notebook: summed Huber delta 1e-3, L-BFGS-B over the 4,500-start grid",
            **chin_meta,
        ),
        _chinchilla_like(
            "sardana-2024",
            "Chinchilla constants as used by Sardana et al.",
            1.69,
            406.4,
            410.7,
            0.336,
            0.283,
            citation="Sardana et al. 2024, Beyond Chinchilla-Optimal, arXiv:2401.00448",
            source="the authors' released analysis code defaults (utils.py)",
            **chin_meta,
        ),
        Law(
            id="muennighoff-2023",
            title="Data-constrained scaling (C4)",
            form="data-constrained",
            constants={
                "E": math.exp(0.6254804),
                "A": math.exp(6.255414),
                "B": math.exp(7.3049974),
                "alpha": 0.3526596,
                "beta": 0.3526596,
                "R_N": 5.309743,
                "R_D": 15.387756,
            },
            family=GPT2_FAMILY,
            tokenizer="GPT-2 BPE (50,257)",
            dataset="C4",
            citation="Muennighoff et al. 2023, Scaling Data-Constrained Language Models, arXiv:2305.16264",
            source="App. A: base law refit on C4 (alpha = beta), decay constants R_N*, R_D* from 182 runs",
            domain=Domain(params=(7e6, 9e9)),
        ),
        _porian(
            "porian-2024",
            "Optimizer tuning (no decay)",
            0.11892648397493802,
            0.49689507817885203,
            NDefinition.WITH_HEAD,
            (128.93191387679073, 2.0055567801262706, 0.10596965150600296),
        ),
        _porian(
            "porian-2024-kaplan",
            "Reproducing Kaplan et al.",
            4.2319659184965657e-08,
            0.8353000424913991,
            NDefinition.NON_EMBEDDING,
            (1322.3534107405858, 2.6599070063616916, 0.1751780689789408),
        ),
        _porian(
            "porian-2024-head-flops",
            "Counting last layer FLOPs",
            1.2701847832482018e-05,
            0.7064699122200796,
            NDefinition.WITH_HEAD,
            (774487.0883597707, 2.860936744577546, 0.3331300237380728),
        ),
        _porian(
            "porian-2024-warmup",
            "Correcting warmup",
            0.0014309165592833362,
            0.6020375267309686,
            NDefinition.WITH_HEAD,
            (963055.1568382459, 3.2330015637431444, 0.3532592058208147),
        ),
        _porian(
            "porian-2024-cosine",
            "Cosine decay",
            0.0047692867893526685,
            0.5714947855747434,
            NDefinition.WITH_HEAD,
            (562235.9076102892, 3.0818375280021324, 0.3358659537109581),
        ),
        Law(
            id="deepseek-2024",
            title="DeepSeek LLM model/data allocation",
            form="power-law",
            constants={"k_N": 0.1715, "a_N": 0.5243, "k_D": 5.8316, "a_D": 0.4757},
            n_definition=NDefinition.MODEL_SCALE,
            c_definition=CDefinition.MD,
            family=DEEPSEEK_FAMILY,
            tokenizer="DeepSeek BBPE (102,400)",
            dataset="DeepSeek in-house (2024)",
            loss_unit="bits/byte",
            citation="DeepSeek-AI (Bi et al.) 2024, DeepSeek LLM, arXiv:2401.02954",
            source="§3.2 Eq. 4: M_opt = 0.1715 C^0.5243, D_opt = 5.8316 C^0.4757, C = M D (Eq. 2)",
            domain=Domain(flops=(1e17, 3e20)),
            notes="N is DeepSeek's model scale M (non-embedding FLOPs/token); the shape is chosen to match M.",
        ),
        Law(
            id="gemstones-2025",
            title="Gemstones width-depth law",
            form="width-depth",
            constants={
                "E": math.exp(0.4282048563),
                "A_w": math.exp(1.082043835),
                "alpha_w": 0.2195783536,
                "A_d": math.exp(-0.2186969889),
                "alpha_d": 0.4758917337,
                "A_p": math.exp(6.0902355695),
                "alpha_p": 0.3636454068,
                "B": math.exp(10.4720427681),
                "beta": 0.4935127042,
            },
            c_definition=CDefinition.GEMSTONES,
            family=GEMSTONES_FAMILY,
            tokenizer="Pythia (50,304)",
            dataset="Dolma 1.7",
            loss_unit="nats/token (Gemstones validation set)",
            citation=GEMSTONES_CITE,
            source="mcleish7/gemstone-scaling-laws parameters_delta-4/"
            "approach_3_width_depth_parameters_grid_search_0_hot_100b+.json (arXiv Eq. 2, delta 1e-4)",
            domain=GEMSTONES_DOMAIN,
        ),
        _chinchilla_like(
            "gemstones-2025-params",
            "Gemstones Eq. 1 (params, tokens)",
            math.exp(0.6655226816),
            math.exp(4.8761769847),
            math.exp(12.6984060933),
            0.2575546364,
            0.5909317455,
            c_definition=CDefinition.SIX_ND,
            family=GEMSTONES_FAMILY,
            tokenizer="Pythia (50,304)",
            dataset="Dolma 1.7",
            citation=GEMSTONES_CITE,
            source="parameters_delta-4/approach_3_parameters_grid_search_0_hot_100b+.json",
            domain=GEMSTONES_DOMAIN,
        ),
        Law(
            id="gemstones-2025-approach1",
            title="Gemstones Approach 1 (convex hull, <=100B tokens)",
            form="power-law",
            constants={
                "k_N": math.exp(-2.8451076960767026),
                "a_N": 0.499380216082636,
                "k_D": math.exp(1.8963208273327723),
                "a_D": 0.4809888232129201,
            },
            c_definition=CDefinition.GEMSTONES,
            family=GEMSTONES_FAMILY,
            tokenizer="Pythia (50,304)",
            dataset="Dolma 1.7",
            citation=GEMSTONES_CITE,
            source="parameters/approach_1_linear_regression_params.json and _tokens.json (hot_477)",
            domain=GEMSTONES_DOMAIN,
        ),
        *_krajewski(),
    ]
    return tuple(checked(law) for law in annotate(tuple(laws)))


def _krajewski() -> tuple[Law, ...]:
    """Krajewski et al. 2024 Table 1 (page 7): the MoE law (Eq. 9) and its dense
    counterpart (Eq. 1) fitted on the same runs (C4, expansion rate 64)."""
    meta: dict[str, Any] = {
        "n_definition": NDefinition.NON_EMBEDDING,
        "family": KRAJEWSKI_FAMILY,
        "tokenizer": "not stated in the sections read",
        "dataset": "C4",
        "citation": KRAJEWSKI_CITE,
        "domain": KRAJEWSKI_DOMAIN,
    }
    moe = Law(
        id="krajewski-2024",
        title="Fine-grained MoE (granularity law, expansion 64)",
        form="fine-grained-moe",
        constants={
            "c": 0.47,
            "a": 18.1,
            "alpha": 0.115,
            "b": 30.8,
            "beta": 0.147,
            "g": 2.1,
            "gamma": 0.58,
            "granularity": 16.0,
            "active_ratio": 12.0 / 516.0,
            "expansion_rate": 64.0,
        },
        source="Table 1 (MoE row); reference design G = 16 (the fitted 1..16's top) and "
        "N_active/N = 12/516 (§6.1 at E = 64); C = 6 N_active D",
        **meta,
    )
    dense = Law(
        id="krajewski-2024-dense",
        title="Dense transformer fitted alongside the fine-grained MoE law",
        form="chinchilla",
        constants={"E": 0.47, "A": 16.3, "alpha": 0.126, "B": 26.7, "beta": 0.127},
        source="Table 1 (Dense row), Eq. 1",
        **meta,
    )
    return moe, dense


BUILTIN_LAWS: dict[str, Law] = {law.id: law for law in builtin_laws()}


def builtin(law_id: str) -> Law:
    """A built-in law by id; ``ValueError`` lists the known ids."""
    try:
        return BUILTIN_LAWS[law_id]
    except KeyError:
        raise ArgumentError(
            "law", f"unknown law {law_id!r}; known: {', '.join(BUILTIN_LAWS)}"
        ) from None
