//! The process's own resource use, as the OpenTelemetry semantic conventions
//! name it (`process.*`, as the demo's Python generator exports through its
//! system-metrics instrumentation): CPU time and utilisation by mode, resident
//! and virtual memory, threads, open file descriptors. Read from `/proc/self`
//! (procfs) when the SDK collects; not on other systems.

use opentelemetry::metrics::Meter;

#[cfg(target_os = "linux")]
pub fn register(meter: &Meter) {
    use opentelemetry::KeyValue;
    use procfs::process::Process;
    use std::sync::Mutex;
    use std::time::Instant;

    let ticks = procfs::ticks_per_second() as f64;
    let page = procfs::page_size();
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) as f64;
    // (user s, system s) from /proc/self/stat.
    let cpu = move || Process::myself().and_then(|p| p.stat()).map(|s| (s.utime as f64 / ticks, s.stime as f64 / ticks)).ok();
    let modes = [KeyValue::new("cpu.mode", "user"), KeyValue::new("cpu.mode", "system")];
    let m = modes.clone();
    meter
        .f64_observable_counter("process.cpu.time")
        .with_description("Total CPU seconds broken down by different CPU modes")
        .with_unit("s")
        .with_callback(move |o| {
            if let Some((user, system)) = cpu() {
                o.observe(user, &m[..1]);
                o.observe(system, &m[1..]);
            }
        })
        .build();
    // Utilisation since the last collection, over the CPUs available to the process.
    let last: Mutex<Option<(Instant, f64, f64)>> = Mutex::new(None);
    meter
        .f64_observable_gauge("process.cpu.utilization")
        .with_description("CPU time since the last measurement, over elapsed time and available CPUs")
        .with_unit("1")
        .with_callback(move |o| {
            let Some((user, system)) = cpu() else { return };
            let now = Instant::now();
            let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((then, u0, s0)) = *last {
                let wall = now.duration_since(then).as_secs_f64() * cpus;
                if wall > 0.0 {
                    o.observe((user - u0) / wall, &modes[..1]);
                    o.observe((system - s0) / wall, &modes[1..]);
                }
            }
            *last = Some((now, user, system));
        })
        .build();
    meter
        .i64_observable_up_down_counter("process.memory.usage")
        .with_description("The amount of physical memory in use")
        .with_unit("By")
        .with_callback(move |o| {
            if let Ok(s) = Process::myself().and_then(|p| p.stat()) {
                o.observe((s.rss * page) as i64, &[]);
            }
        })
        .build();
    meter
        .i64_observable_up_down_counter("process.memory.virtual")
        .with_description("The amount of committed virtual memory")
        .with_unit("By")
        .with_callback(|o| {
            if let Ok(s) = Process::myself().and_then(|p| p.stat()) {
                o.observe(s.vsize as i64, &[]);
            }
        })
        .build();
    meter
        .i64_observable_up_down_counter("process.thread.count")
        .with_description("Process threads count")
        .with_unit("{thread}")
        .with_callback(|o| {
            if let Ok(s) = Process::myself().and_then(|p| p.stat()) {
                o.observe(s.num_threads, &[]);
            }
        })
        .build();
    meter
        .i64_observable_up_down_counter("process.open_file_descriptor.count")
        .with_description("Number of file descriptors in use by the process")
        .with_unit("{count}")
        .with_callback(|o| {
            if let Ok(n) = Process::myself().and_then(|p| p.fd_count()) {
                o.observe(n as i64, &[]);
            }
        })
        .build();
}

#[cfg(not(target_os = "linux"))]
pub fn register(_meter: &Meter) {}
