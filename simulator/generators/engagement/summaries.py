"""Engagement summaries: daily, weekly and monthly active users, seats and pending invites per day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from functools import cached_property

import numpy as np

from simulator.clock import day_start, iso


class Summaries:
    """Builds the day series of /summaries (mixed into :class:`EngagementData`)."""

    # -- summaries ----------------------------------------------------------------------------------------
    @cached_property
    def _invite_times(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        inv = self.org.invites
        ts = np.array([i.invited.timestamp() for i in inv])
        ex = np.array([i.expires.timestamp() for i in inv])
        acc = np.array([i.accepted.timestamp() if i.accepted else np.inf for i in inv])
        return ts, ex, acc

    def pending_invites(self, days: Sequence[date]) -> np.ndarray:
        """Invites pending at the end of each day (sent, neither accepted nor expired yet)."""
        ts, ex, acc = self._invite_times
        t = np.array([day_start(d + timedelta(days=1)).timestamp() for d in days])[:, None]
        return ((ts < t) & (t < ex) & (acc > t)).sum(axis=1)

    def summaries(self, start: date, end: date, users: np.ndarray | None = None) -> list[dict]:
        """One B1 summary per day of [start, end); ``users`` scopes to RBAC-group members (seat fields null)."""
        days = [start + timedelta(days=i) for i in range((end - start).days)]
        window = [start - timedelta(days=29 - i) for i in range(29)] + days
        acts = [self.plan.day(d) for d in window]
        scope = np.ones(self.n_users, dtype=bool) if users is None else users

        def rolling(rows: list[np.ndarray]) -> dict[int, np.ndarray]:
            stack = np.stack(rows) & scope
            cum = np.zeros((stack.shape[0] + 1, stack.shape[1]), dtype=np.int32)
            np.cumsum(stack, axis=0, dtype=np.int32, out=cum[1:])
            out = {}
            for w in (1, 7, 30):
                hi = np.arange(29, len(window)) + 1
                out[w] = ((cum[hi] - cum[hi - w]) > 0).sum(axis=1)
            return out

        total = rolling([a.active for a in acts])
        per = {
            p: rolling([a.surfaces[s] for a in acts])
            for p, s in (
                ("cowork", "cowork"),
                ("chat", "chat"),
                ("claude_code", "claude_code"),
                ("claude_design", "claude_design"),
                ("office_agent", "office_agent"),
            )
        }
        scoped = users is not None
        seats = [int(a.member.sum()) for a in acts[29:]]
        pending = self.pending_invites(days)
        out = []
        for i, d in enumerate(days):
            dau, wau, mau = int(total[1][i]), int(total[7][i]), int(total[30][i])
            row: dict = {
                "starting_at": iso(day_start(d)),
                "ending_at": iso(day_start(d + timedelta(days=1))),
                "daily_active_user_count": dau,
                "weekly_active_user_count": wau,
                "monthly_active_user_count": mau,
                "assigned_seat_count": None if scoped else seats[i],
                "pending_invite_count": None if scoped else int(pending[i]),
                "daily_adoption_rate": None if scoped else _rate(dau, seats[i]),
                "weekly_adoption_rate": None if scoped else _rate(wau, seats[i]),
                "monthly_adoption_rate": None if scoped else _rate(mau, seats[i]),
            }
            for p in ("cowork", "chat", "claude_code", "claude_design", "office_agent"):
                row[f"{p}_daily_active_user_count"] = int(per[p][1][i])
                row[f"{p}_weekly_active_user_count"] = int(per[p][7][i])
                row[f"{p}_monthly_active_user_count"] = int(per[p][30][i])
            for w in ("daily", "weekly", "monthly"):
                row[f"science_{w}_active_user_count"] = 0
            row["science_entitled_user_count"] = None if scoped else 0
            for w in ("daily", "weekly", "monthly"):
                row[f"claude_tag_{w}_active_user_count"] = None if scoped else 0
            out.append(row)
        return out


def _rate(count: int, seats: int) -> float | None:
    return round(count / seats * 100, 2) if seats else None
