"""A command's own process takes Arrow's buffers from the C library's allocator."""

from __future__ import annotations


def test_a_command_takes_arrow_buffers_from_the_c_allocator() -> None:
    import pyarrow as pa

    from silkroute_sim.cli.common import one_allocator

    before = pa.default_memory_pool()
    try:
        one_allocator()
        assert pa.default_memory_pool().backend_name == "system"
    finally:
        pa.set_memory_pool(before)
