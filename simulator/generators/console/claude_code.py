"""Claude Code activity of a Console organization: one row per actor, terminal and day."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

from simulator.catalog import MODELS_BY_ID, price_microcents_per_token
from simulator.generators.console.records import WEEKDAY, ClaudeCodeRow
from simulator.ids import rng, stable_int
from simulator.world.names import TERMINALS


class ClaudeCodeActivity:
    """Generates Claude Code rows (mixed into :class:`ConsoleData`)."""

    # -- Claude Code ---------------------------------------------------------------------------
    def claude_code(self, d: date) -> tuple[ClaudeCodeRow, ...]:
        return _claude_code(self, d)

    def _claude_code_rows(self, d: date) -> tuple[ClaudeCodeRow, ...]:
        org = self.org
        if d < org.created:
            return ()
        coders = [
            u for u in org.users if u.role in ("developer", "claude_code_user", "admin") and u.member_on(d)
        ]
        bots = [k for k in org.api_keys if k.usable_on(d) and stable_int(k.id, "cc") % 10 == 0]
        rows = []
        for actor in (*coders, *bots):
            r = rng(org.world_seed, org.slug, "cc", actor.id, d.isoformat())
            if r.random() > 0.6 * WEEKDAY[d.weekday()]:
                continue
            if hasattr(actor, "email"):
                who = {"type": "user_actor", "email_address": actor.email}
                key = (actor.email,)
            else:
                who = {"type": "api_actor", "api_key_name": actor.name}
                key = (actor.name,)
            places = [(r.choice(TERMINALS), False)]
            if r.random() < 0.15:
                places.append(("web", True))
            for terminal, remote in places:
                sessions = r.randint(1, 8)
                added = r.randint(10, 400) * sessions
                tools = {
                    name: {"accepted": r.randint(0, 6 * sessions), "rejected": r.randint(0, sessions)}
                    for name in ("edit_tool", "multi_edit_tool", "write_tool", "notebook_edit_tool")
                }
                breakdown = []
                for model_id in sorted({r.choice([m.id for m in org.models_on(d)][:3]) for _ in range(2)}):
                    model = MODELS_BY_ID[model_id]
                    inp, out = r.randint(5_000, 90_000) * sessions, r.randint(1_000, 20_000) * sessions
                    cread, ccreate = inp * r.randint(5, 20), inp // r.randint(1, 4)
                    cost = sum(
                        price_microcents_per_token(
                            model,
                            tt,
                            d,
                            service_tier="standard",
                            context_window="0-200k",
                            inference_geo="global",
                            speed="standard",
                        )
                        * n
                        for tt, n in (
                            ("uncached_input_tokens", inp),
                            ("output_tokens", out),
                            ("cache_read_input_tokens", cread),
                            ("cache_creation.ephemeral_5m_input_tokens", ccreate),
                        )
                    )
                    cents = (cost / 1_000_000).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
                    breakdown.append((model_id, inp, out, cread, ccreate, cents))
                rows.append(
                    ClaudeCodeRow(
                        actor=who,
                        sort_key=(*key, terminal, remote),
                        terminal_type=terminal,
                        is_remote=remote,
                        core={
                            "num_sessions": sessions,
                            "lines_of_code": {"added": added, "removed": added // r.randint(2, 9)},
                            "commits_by_claude_code": r.randint(0, sessions),
                            "pull_requests_by_claude_code": r.randint(0, max(0, sessions // 3)),
                        },
                        tool_actions=tools,
                        models=tuple(breakdown),
                    )
                )
        return tuple(sorted(rows, key=lambda x: x.sort_key))


@lru_cache(maxsize=1024)
def _claude_code(data: ClaudeCodeActivity, d: date) -> tuple[ClaudeCodeRow, ...]:
    return data._claude_code_rows(d)
