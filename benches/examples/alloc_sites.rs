#![allow(missing_docs, unsafe_code)]
use mitten_benches::stacks;
use mitten_benches::visit::{Visit, get as new_visitor};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use tower::ServiceExt as _;

struct Tracing;
thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
    static SITES: RefCell<Vec<(usize, String)>> = const { RefCell::new(Vec::new()) };
}
fn record(size: usize, kind: &str) {
    if ON.with(|o| o.replace(false)) {
        let bt = std::backtrace::Backtrace::force_capture().to_string();
        let frames: Vec<&str> = bt
            .lines()
            .filter(|l| !l.trim_start().starts_with("at "))
            .collect();
        let skip = [
            "alloc_sites",
            "alloc::",
            "backtrace",
            "__rust",
            "core::",
            "std::",
            "<alloc",
            "bytes::",
            "hashbrown",
            "<core",
        ];
        let mut chain = Vec::new();
        for f in frames.iter().skip(1) {
            let f = f.trim().splitn(2, ": ").nth(1).unwrap_or(f).to_string();
            if chain.is_empty() && skip.iter().any(|s| f.starts_with(s)) {
                continue;
            }
            chain.push(f.chars().take(110).collect::<String>());
            if chain.len() >= 2 && (f.contains("mitten_") || f.contains("visit")) {
                break;
            }
            if chain.len() == 8 {
                break;
            }
        }
        SITES.with(|s| {
            s.borrow_mut()
                .push((size, format!("{kind} {}", chain.join(" <- "))))
        });
        ON.with(|o| o.set(true));
    }
}
unsafe impl GlobalAlloc for Tracing {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        record(l.size(), "A");
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        record(n, "R");
        unsafe { System.realloc(p, l, n) }
    }
}
#[global_allocator]
static G: Tracing = Tracing;

fn main() {
    let which = std::env::args().nth(1).unwrap_or("get".into());
    let stack = std::env::args().nth(2).unwrap_or("mitten full".into());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (_, app) = stacks::all()
        .into_iter()
        .find(|(n, _)| *n == stack)
        .unwrap();
    let visit = rt.block_on(Visit::first(&app));
    for _ in 0..10 {
        let r = match which.as_str() {
            "get" => new_visitor(),
            "ret" => visit.get(),
            _ => visit.post(),
        };
        rt.block_on(app.clone().oneshot(r)).unwrap();
    }
    let r = match which.as_str() {
        "get" => new_visitor(),
        "ret" => visit.get(),
        _ => visit.post(),
    };
    ON.with(|o| o.set(true));
    let resp = rt.block_on(app.clone().oneshot(r)).unwrap();
    drop(resp);
    ON.with(|o| o.set(false));
    SITES.with(|s| {
        for (n, (size, site)) in s.borrow().iter().enumerate() {
            println!("{n:2} {size:5} {site}");
        }
    });
}
