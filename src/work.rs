//! Units of work, counted in unit tests so that tests can assert that a walk over hostile
//! input is linear (a step count against a linear-size baseline, never a wall-clock time).
//! Outside `cfg(test)` [`step`] compiles to nothing.

#[cfg(test)]
use std::cell::Cell;

#[cfg(test)]
thread_local! {
    static STEPS: Cell<u64> = const { Cell::new(0) };
}

/// Counts one unit of work (a type looked up, a symbol or candidate visited).
#[inline(always)]
pub(crate) fn step() {
    #[cfg(test)]
    STEPS.with(|s| s.set(s.get() + 1));
}

/// Runs `f` and returns its result with the number of steps it took on this thread.
#[cfg(test)]
pub(crate) fn measure<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let before = STEPS.with(Cell::get);
    let r = f();
    (r, STEPS.with(Cell::get) - before)
}
