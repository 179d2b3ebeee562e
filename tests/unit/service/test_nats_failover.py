"""After losing a node, a NATS connection tries the other nodes before that one."""

from __future__ import annotations

from urllib.parse import urlparse

from nats.aio.client import Server

from service.nats_failover import FailoverOrder

A, B, C = "10.0.0.1:4222", "10.0.0.2:4222", "10.0.0.3:4222"


def pool(*netlocs: str) -> list[Server]:
    return [Server(uri=urlparse(f"nats://{netloc}")) for netloc in netlocs]


def picks(
    order: FailoverOrder, servers: list[Server], n: int
) -> list[tuple[str, float]]:
    chosen = []
    for _ in range(n):
        server, pause = order(servers, {})
        assert server is not None
        chosen.append((server.uri.netloc, pause))
    return chosen


def test_the_lost_node_comes_last_and_the_others_keep_their_shuffled_order() -> None:
    order = FailoverOrder(round_pause=1.0)
    order.connected(A)
    order.disconnected()
    assert picks(order, pool(A, C, B), 3) == [(C, 0.0), (B, 0.0), (A, 0.0)]


def test_a_round_in_which_every_node_failed_is_followed_by_a_pause() -> None:
    order = FailoverOrder(round_pause=1.0)
    order.connected(B)
    order.disconnected()
    assert picks(order, pool(A, B), 5) == [
        (A, 0.0),
        (B, 0.0),
        (A, 1.0),
        (B, 0.0),
        (A, 1.0),
    ]


def test_a_new_loss_starts_afresh_from_the_node_it_is_on_now() -> None:
    order = FailoverOrder(round_pause=1.0)
    order.connected(A)
    order.disconnected()
    assert picks(order, pool(A, B, C), 2) == [(B, 0.0), (C, 0.0)]
    order.connected(C)
    order.disconnected()
    assert picks(order, pool(C, A, B), 3) == [(A, 0.0), (B, 0.0), (C, 0.0)]


def test_a_single_node_is_tried_again_after_each_pause() -> None:
    order = FailoverOrder(round_pause=0.5)
    order.connected(A)
    order.disconnected()
    assert picks(order, pool(A), 3) == [(A, 0.0), (A, 0.5), (A, 0.5)]


def test_an_empty_pool_leaves_the_choice_to_the_client() -> None:
    assert FailoverOrder(round_pause=1.0)([], {}) == (None, 0.0)
