//! Access to the control socket and the audit log (issue 7): a peer without rights is
//! refused, a member of the socket group reads but changes nothing, and every change is in
//! `exsyncctl audit` with the uid that asked; reloads the daemon starts itself (SIGHUP, the
//! config watcher) are audited with the daemon as who.
//!
//! The tests run as root and run `exsyncctl` as made-up uids and gids (ids no user or group
//! of the machine has); the socket group is given to exsyncd by number.

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use exsync_e2e::daemon::{
    binance_integration, unused_ids, wait_for, Daemon, OtherUser, Setup, ALL_STREAMS,
};
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use serde_json::Value;

const NAME: &str = "binance-main";

/// An installation whose socket group is `gid` (by number), reachable by other users: the
/// temporary directory opens for traversal only (0711), the socket itself stays 0660.
fn setup_with_group(sim: &Sim, gid: u32) -> Setup {
    let mut setup = Setup::new();
    setup.env("E2E_BINANCE_KEY", API_KEY);
    setup.env("E2E_BINANCE_SECRET", API_SECRET);
    setup.integration(NAME, &binance_integration(&sim.url, ALL_STREAMS));
    std::fs::write(
        setup.config_dir().join("exsyncd.toml"),
        format!("socket_group = {gid}\n"),
    )
    .unwrap();
    std::fs::set_permissions(setup.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    setup
}

/// The audit log as root sees it.
fn audit(daemon: &Daemon, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["audit"];
    all.extend_from_slice(args);
    match &daemon.ctl_json(&all)["entries"] {
        Value::Array(v) => v.clone(),
        other => panic!("audit has no entries: {other}"),
    }
}

fn entries_of<'a>(entries: &'a [Value], uid: u32, verb: &str) -> Vec<&'a Value> {
    entries
        .iter()
        .filter(|e| e["uid"] == uid && e["verb"] == verb)
        .collect()
}

#[test]
fn a_peer_without_rights_is_refused_and_the_refusal_is_audited() {
    let sim = Sim::binance(&["--seed", "71", "--trades", "50"]);
    let ids = unused_ids(2);
    let (group, stranger_id) = (ids[0], ids[1]);
    let setup = setup_with_group(&sim, group);
    let daemon = Daemon::start(&setup);
    let stranger = OtherUser {
        uid: stranger_id,
        gid: stranger_id,
        groups: vec![],
    };

    // The socket: 0660, group as configured.
    let meta = std::fs::metadata(&daemon.socket).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o660);
    assert_eq!(meta.gid(), group, "socket group");

    // The file system keeps the stranger out: ctl says so (exit 3, with the group hint).
    let out = daemon.ctl_as(&stranger, &["status"]);
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("exsync"), "{}", out.stderr);

    // With the socket opened to everyone by mistake, the daemon itself refuses: a read needs
    // the `read` right, a change the `change` right, and the answer says who asked.
    std::fs::set_permissions(&daemon.socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    for (args, right) in [
        (vec!["status"], "read"),
        (vec!["records", NAME, "--kind", "trade"], "read"),
        (vec!["audit"], "read"),
        (vec!["sync", NAME, "--wait"], "change"),
        (vec!["reload", "--wait"], "change"),
    ] {
        let out = daemon.ctl_as(&stranger, &args);
        assert_eq!(out.code, 1, "{args:?}: {}\n{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains("error: denied"),
            "{args:?}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains(&format!("needs the `{right}` right")),
            "{args:?}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains(&format!("uid {stranger_id}")),
            "{args:?}: {}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
    }

    // Each refusal is audited with the stranger's uid, and the journal has it too.
    let entries = audit(&daemon, &[]);
    for verb in ["status", "records", "audit", "sync", "reload"] {
        let mine = entries_of(&entries, stranger_id, verb);
        assert_eq!(mine.len(), 1, "{verb}: {entries:#?}");
        assert_eq!(mine[0]["result"], "denied", "{verb}: {:#}", mine[0]);
        assert!(mine[0]["pid"].as_u64().unwrap() > 0, "{:#}", mine[0]);
        assert_eq!(mine[0]["origin"], "ctl");
    }
    let sync = entries_of(&entries, stranger_id, "sync")[0];
    assert_eq!(sync["target"], NAME);
    let log = daemon.log();
    assert!(
        log.contains(&format!("Audit: sync by uid {stranger_id}")),
        "no journal line for the refused sync:\n{log}"
    );
    let denied = daemon
        .metric("exsync_control_requests_total{result=\"denied\",verb=\"sync\"}")
        .unwrap_or(0.0);
    assert_eq!(denied, 1.0);
}

#[test]
fn a_member_of_the_socket_group_reads_but_changes_nothing() {
    let sim = Sim::binance(&["--seed", "72", "--trades", "120"]);
    let ids = unused_ids(4);
    let (group, primary_member, supplementary_member, other_gid) = (ids[0], ids[1], ids[2], ids[3]);
    let setup = setup_with_group(&sim, group);
    let daemon = Daemon::start(&setup);
    // One member by primary group, one by a supplementary group.
    let readers = [
        OtherUser {
            uid: primary_member,
            gid: group,
            groups: vec![],
        },
        OtherUser {
            uid: supplementary_member,
            gid: other_gid,
            groups: vec![other_gid, group],
        },
    ];

    // Root syncs: that is a change, audited as uid 0 (root).
    let report = daemon.sync_wait(NAME);
    exsync_e2e::assert_all_ok(&report);
    let stored = daemon.records(NAME, "trade").len();
    assert!(stored >= 120, "{stored}");
    // The scheduler's first sync (due within seconds of the start) is done too: from here
    // on, nothing is due for an hour.
    daemon.wait_for_status("every stream idle and next due in an hour", |status| {
        let soon = exsync_e2e::dates::now_ms() + 30 * 60 * 1000;
        exsync_e2e::daemon::integration(status, NAME).is_some_and(|it| {
            it["streams"].as_array().is_some_and(|streams| {
                streams.iter().all(|s| {
                    s["state"] == "idle" && s["next_run_ms"].as_i64().is_some_and(|t| t > soon)
                })
            })
        })
    });
    let requests = sim.stats()["requests_total"].clone();

    for reader in &readers {
        // Every read works.
        for args in [
            vec!["status"],
            vec!["plugins"],
            vec!["integrations"],
            vec!["records", NAME, "--kind", "trade"],
            vec!["coverage", NAME],
            vec!["audit"],
        ] {
            let mut all = vec!["--json"];
            all.extend_from_slice(&args);
            let out = daemon.ctl_as(reader, &all);
            assert_eq!(
                out.code, 0,
                "{args:?} as {reader:?}: {}\n{}",
                out.stdout, out.stderr
            );
            out.json();
        }
        let out = daemon.ctl_as(reader, &["--json", "records", NAME, "--kind", "trade"]);
        assert_eq!(out.json().as_array().unwrap().len(), stored);

        // No change goes through, and each refusal says the `change` right was missing.
        // `test` signs requests with the key: a use of the credentials, not a read.
        for args in [
            vec!["sync", NAME, "--wait"],
            vec!["sync", NAME, "--stream", "trades"],
            vec!["reload", "--wait"],
            vec!["reload"],
            vec!["test", NAME],
        ] {
            let out = daemon.ctl_as(reader, &args);
            assert_eq!(out.code, 1, "{args:?}: {}\n{}", out.stdout, out.stderr);
            assert!(out.stderr.contains("error: denied"), "{}", out.stderr);
            assert!(
                out.stderr.contains("needs the `change` right")
                    && out.stderr.contains("has only the `read` right")
                    && out.stderr.contains(&format!("uid {}", reader.uid)),
                "{}",
                out.stderr
            );
        }
    }
    // Nothing changed: no request reached the exchange, no reload happened, same records.
    assert_eq!(sim.stats()["requests_total"], requests);
    assert_eq!(daemon.records(NAME, "trade").len(), stored);
    let status = daemon.ctl_json(&["status"]);
    assert!(status["last_reload"].is_null(), "{status:#}");

    // The audit log has every change with the uid that asked: root's sync ok, each reader's
    // five attempts denied; reads are not audited.
    let entries = audit(&daemon, &[]);
    let root_syncs = entries_of(&entries, 0, "sync");
    assert_eq!(root_syncs.len(), 1, "{entries:#?}");
    assert_eq!(root_syncs[0]["result"], "ok");
    assert_eq!(root_syncs[0]["user"], "root");
    assert_eq!(root_syncs[0]["target"], NAME);
    for reader in &readers {
        let syncs = entries_of(&entries, reader.uid, "sync");
        let reloads = entries_of(&entries, reader.uid, "reload");
        assert_eq!((syncs.len(), reloads.len()), (2, 2), "{entries:#?}");
        assert!(syncs
            .iter()
            .chain(&reloads)
            .all(|e| e["result"] == "denied"));
        assert!(entries_of(&entries, reader.uid, "status").is_empty());
        assert!(entries_of(&entries, reader.uid, "records").is_empty());
    }
    assert_eq!(entries.len(), 1 + 2 * 5, "{entries:#?}");
    let seqs: Vec<u64> = entries.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=11).collect::<Vec<u64>>());

    // --since: a duration keeps them, a date in the future none; the table shows who.
    assert_eq!(audit(&daemon, &["--since", "1h"]).len(), 11);
    assert!(audit(&daemon, &["--since", "2099-01-01"]).is_empty());
    let table = daemon.ctl(&["audit"]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(
        table.stdout.contains(&primary_member.to_string()),
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains("denied"), "{}", table.stdout);
    let bad = daemon.ctl(&["audit", "--since", "yesterday"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

#[test]
fn reloads_by_signal_and_ctl_are_audited_and_the_log_outlives_a_restart() {
    let sim = Sim::binance(&["--seed", "73", "--trades", "10"]);
    let mut setup = Setup::new();
    setup.env("E2E_BINANCE_KEY", API_KEY);
    setup.env("E2E_BINANCE_SECRET", API_SECRET);
    setup.integration(NAME, &binance_integration(&sim.url, ALL_STREAMS));
    let mut daemon = Daemon::start(&setup);
    // No `exsync` group on a test machine: a clear warning, and root still does everything.
    let log = daemon.log();
    assert!(log.contains("group does not exist"), "{log}");

    daemon.hup();
    let entries = wait_for("the SIGHUP reload in the audit log", || {
        let entries = audit(&daemon, &[]);
        entries
            .iter()
            .any(|e| e["origin"] == "signal")
            .then_some(entries)
    });
    let signal = entries.iter().find(|e| e["origin"] == "signal").unwrap();
    assert_eq!(signal["verb"], "reload");
    assert_eq!(signal["result"], "ok");
    assert_eq!(signal["pid"], daemon.pid(), "who is the daemon: {signal:#}");
    assert_eq!(signal["uid"], unsafe { libc::geteuid() });

    let out = daemon.ctl(&["reload", "--wait"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let entries = audit(&daemon, &[]);
    let by_ctl: Vec<&Value> = entries
        .iter()
        .filter(|e| e["origin"] == "ctl" && e["verb"] == "reload")
        .collect();
    assert_eq!(by_ctl.len(), 1, "{entries:#?}");
    assert_eq!(by_ctl[0]["result"], "ok");
    assert_ne!(by_ctl[0]["pid"], daemon.pid(), "who is the ctl process");

    // A change the config watcher picks up is audited with the daemon as who, too.
    setup.integration(
        NAME,
        &format!("{}# edited\n", binance_integration(&sim.url, ALL_STREAMS)),
    );
    let entries = wait_for("the watcher's reload in the audit log", || {
        let entries = audit(&daemon, &[]);
        entries
            .iter()
            .any(|e| e["origin"] == "watch")
            .then_some(entries)
    });
    let watch = entries.iter().find(|e| e["origin"] == "watch").unwrap();
    assert_eq!(
        (&watch["verb"], &watch["result"], &watch["pid"]),
        (
            &Value::from("reload"),
            &Value::from("ok"),
            &Value::from(daemon.pid())
        ),
        "{watch:#}"
    );

    // Append-only and durable: a restart keeps every entry and goes on numbering.
    let before = entries.len();
    assert!(daemon.terminate().success());
    let daemon = Daemon::start(&setup);
    exsync_e2e::assert_all_ok(&daemon.sync_wait(NAME));
    let after = audit(&daemon, &[]);
    assert!(after.len() > before, "{after:#?}");
    assert_eq!(
        after[..before],
        entries[..],
        "an entry changed across the restart"
    );
    let seqs: Vec<u64> = after.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=after.len() as u64).collect::<Vec<u64>>());
    let last = after.last().unwrap();
    assert_eq!(
        (&last["verb"], &last["uid"]),
        (&Value::from("sync"), &Value::from(0))
    );
}
