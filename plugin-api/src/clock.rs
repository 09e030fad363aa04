//! An exchange's clock as a connector sees it: the offset from the host's clock, measured
//! from the exchange's server-time endpoint on first use and kept until measured again.

use std::sync::Mutex;

use crate::time::server_offset;
use crate::{Host, PluginError};

/// The kept offset of one exchange's clock (its time minus the host's, in ms).
#[derive(Debug, Default)]
pub struct ServerClock {
    offset_ms: Mutex<Option<i64>>,
}

impl ServerClock {
    pub fn new() -> ServerClock {
        ServerClock::default()
    }

    /// The kept offset; `None` before the first measurement.
    pub fn known(&self) -> Option<i64> {
        *self.lock()
    }

    /// The kept offset, measured with `read_server_time` first if there is none yet.
    pub fn offset(
        &self,
        host: &Host,
        read_server_time: impl FnOnce() -> Result<i64, PluginError>,
    ) -> Result<i64, PluginError> {
        match self.known() {
            Some(offset) => Ok(offset),
            None => self.measure(host, read_server_time),
        }
    }

    /// Measures the offset now and keeps it: `read_server_time` (one request for the
    /// exchange's time, in ms) is timed on the host's clock and the exchange's reading placed
    /// at the middle of the round trip.
    pub fn measure(
        &self,
        host: &Host,
        read_server_time: impl FnOnce() -> Result<i64, PluginError>,
    ) -> Result<i64, PluginError> {
        let sent = host.now_ms();
        let server = read_server_time()?;
        let offset = server_offset(sent, host.now_ms(), server);
        *self.lock() = Some(offset);
        Ok(offset)
    }

    /// Drops the kept offset: the next [`ServerClock::offset`] measures again. For a connector
    /// that refuses to correct an offset beyond a bound, after measuring one.
    pub fn forget(&self) {
        *self.lock() = None;
    }

    /// The exchange's "now": the host's clock corrected by the offset.
    pub fn now(
        &self,
        host: &Host,
        read_server_time: impl FnOnce() -> Result<i64, PluginError>,
    ) -> Result<i64, PluginError> {
        Ok(host.now_ms() + self.offset(host, read_server_time)?)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<i64>> {
        // A panic poisons the whole connector instance (the export glue refuses further
        // calls), so a poisoned lock is never seen by a live instance; take the data anyway.
        self.offset_ms.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, Ordering};

    use abi_stable::sabi_trait::TD_Opaque;
    use abi_stable::std_types::{RResult, RStr};

    use super::*;
    use crate::abi::{AbiHttpRequest, AbiHttpResponse, HostIo, HostIo_TO, LogLevel};

    /// A host whose clock moves 100 ms each time it is read.
    struct Ticking(AtomicI64);

    impl HostIo for Ticking {
        fn http(&self, _: AbiHttpRequest) -> RResult<AbiHttpResponse, PluginError> {
            RResult::RErr(PluginError::plugin("no HTTP here"))
        }
        fn now_ms(&self) -> i64 {
            self.0.fetch_add(100, Ordering::SeqCst)
        }
        fn log(&self, _: LogLevel, _: RStr<'_>) {}
    }

    #[test]
    fn measured_once_at_the_middle_of_the_round_trip_then_kept() {
        let host = Host::from_abi(HostIo_TO::from_value(
            Ticking(AtomicI64::new(1_000)),
            TD_Opaque,
        ));
        let clock = ServerClock::new();
        assert_eq!(clock.known(), None);
        // Sent at 1000, received at 1100: the exchange's 5050 was read at 1050.
        assert_eq!(clock.offset(&host, || Ok(5_050)), Ok(4_000));
        assert_eq!(clock.offset(&host, || panic!("measured twice")), Ok(4_000));
        // Host clock now reads 1200.
        assert_eq!(clock.now(&host, || panic!("measured twice")), Ok(5_200));
        let err = clock.measure(&host, || Err(PluginError::network("down")));
        assert_eq!(err.unwrap_err().kind, crate::ErrorKind::NETWORK);
        assert_eq!(
            clock.known(),
            Some(4_000),
            "a failed measurement keeps the last one"
        );
        assert_eq!(clock.measure(&host, || Ok(1_450)), Ok(0));
        clock.forget();
        assert_eq!(clock.known(), None);
    }
}
