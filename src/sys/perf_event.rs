//! `perf_event_open(2)` and the perf-event ioctls (work in progress).
