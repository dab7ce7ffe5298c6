# Parity oracle for lbx convert (issue 4): for each keepalived.conf below,
# keepalived --check programs IPVS, then lbx convert | lbx apply programs it
# from an empty table; the two `ipvsadm-save -n` and `ipvsadm -Ln
# --thresholds` outputs (sorted) must be identical. The configs are the
# files of convert/testdata/parity/ (a Go test keeps both in sync); no
# checkers, so keepalived's table right after "Startup complete" is final.

parity() {
	local name=$1 conf=$1.conf
	cat >"$conf"
	note "parity: $name"
	ipvsadm -C
	keepalived --check -n -l -D -f "$PWD/$conf" -p "$PWD/ka.pid" -c "$PWD/ka-check.pid" >"ka-$name.log" 2>&1 &
	local ka=$! i
	for i in $(seq 1 100); do
		grep -q "Startup complete" "ka-$name.log" && break
		sleep 0.1
	done
	grep -q "Startup complete" "ka-$name.log" || { cat "ka-$name.log"; fail "$name: keepalived did not start"; }
	sleep 0.5
	ipvsadm-save -n | sort >"ka-$name.save"
	ipvsadm -Ln --thresholds | sort >"ka-$name.thr"
	# SIGKILL: a clean stop would remove the rules we just read; the table
	# is flushed below anyway.
	kill -9 "$ka" $(cat ka-check.pid 2>/dev/null) 2>/dev/null || true
	wait "$ka" 2>/dev/null || true
	ipvsadm -C
	run lbx convert "$conf"
	expect_rc 0 "lbx convert $conf"
	printf '%s\n' "$OUT" >"$name.yaml"
	must lbx apply -f "$name.yaml" --auto-approve
	ipvsadm-save -n | sort >"lbx-$name.save"
	ipvsadm -Ln --thresholds | sort >"lbx-$name.thr"
	[[ -s ka-$name.save ]] || fail "$name: keepalived programmed nothing"
	if ! diff -u "ka-$name.save" "lbx-$name.save"; then fail "$name: ipvsadm-save differs (- keepalived, + lbx)"; fi
	if ! diff -u "ka-$name.thr" "lbx-$name.thr"; then fail "$name: ipvsadm -Ln --thresholds differs (- keepalived, + lbx)"; fi
	ipvsadm -C
	rm -rf /var/lib/lbx /run/lbx
}

parity defaults <<'KEEPALIVED'
# Defaults left out: no protocol (keepalived 2.2: UDP), no lvs_sched (wlc),
# no lvs_method (NAT), no weight (1), real server without a port.
virtual_server 10.0.0.1 80 {
    real_server 10.1.0.1 8080 {
    }
    real_server 10.1.0.2 {
        uthreshold 100
        lthreshold 10
    }
}
virtual_server 10.0.0.1 443 {
    protocol TCP
    weight 5
    real_server 10.1.0.1 443 {
    }
    real_server 10.1.0.3 443 {
        weight 0
    }
}
KEEPALIVED

parity forwarding <<'KEEPALIVED'
# NAT, DR, TUN; per-real-server lvs_method; DR port reset; UDP with ops.
virtual_server 10.0.4.1 80 {
    protocol TCP
    lvs_method DR
    real_server 10.1.4.1 8080 {
    }
    real_server 10.1.4.2 80 {
        lvs_method TUN
    }
    real_server 10.1.4.3 80 {
        lvs_method NAT
    }
}
virtual_server 10.0.4.2 80 {
    protocol TCP
    lvs_method TUN
    real_server 10.1.4.4 80 {
    }
}
virtual_server 10.0.4.3 53 {
    protocol UDP
    ops
    lvs_sched rr
    real_server 10.1.4.5 53 {
    }
}
virtual_server 10.0.4.4 5060 {
    protocol SCTP
    real_server 10.1.4.6 5060 {
    }
}
KEEPALIVED

parity fwmark <<'KEEPALIVED'
# fwmark services: NAT real server without a port, DR with a port (cleared),
# an IPv6 fwmark.
virtual_server fwmark 1 {
    real_server 10.1.3.1 {
    }
    real_server 10.1.3.2 8080 {
    }
}
virtual_server fwmark 2 {
    lvs_method DR
    lvs_sched rr
    persistence_timeout 60
    real_server 10.1.3.3 80 {
    }
}
virtual_server fwmark 3 {
    ip_family inet6
    lvs_method DR
    real_server 2001:db8:3::1 {
    }
}
KEEPALIVED

parity group <<'KEEPALIVED'
# virtual_server_group: single addresses, last-octet ranges, a full-address
# range, IPv6 range, fwmark; one IPVS service per member.
virtual_server_group WEB {
    10.0.5.1 80
    10.0.5.10-12 80
    10.0.5.20-10.0.5.21 8080
    fwmark 7
}
virtual_server group WEB {
    protocol TCP
    lvs_sched rr
    real_server 10.1.5.1 80 {
    }
    real_server 10.1.5.2 80 {
        weight 2
    }
}
virtual_server_group WEB6 {
    2001:db8:5::a-c 443
}
virtual_server group WEB6 {
    protocol TCP
    real_server 2001:db8:5::100 443 {
    }
}
KEEPALIVED

parity persistence <<'KEEPALIVED'
# Persistence with and without a value, with granularity, port 0, IPv6.
virtual_server 10.0.2.1 80 {
    protocol TCP
    persistence_timeout 300
    persistence_granularity 255.255.255.0
    real_server 10.1.2.1 80 {
    }
}
virtual_server 10.0.2.1 81 {
    protocol TCP
    persistence_timeout
    real_server 10.1.2.1 81 {
    }
}
virtual_server 10.0.2.1 82 {
    protocol TCP
    persistence_granularity 255.255.0.0
    real_server 10.1.2.1 82 {
    }
}
virtual_server 10.0.2.2 0 {
    protocol TCP
    lvs_method DR
    real_server 10.1.2.2 0 {
    }
}
virtual_server 2001:db8:2::1 80 {
    protocol TCP
    persistence_timeout 120
    persistence_granularity 64
    real_server 2001:db8:2::10 80 {
    }
}
KEEPALIVED

parity schedulers <<'KEEPALIVED'
# Every scheduler the kernel ships, with flags.
virtual_server 10.0.1.1 80 {
    protocol TCP
    lvs_sched rr
    real_server 10.1.1.1 80 {
    }
    real_server 10.1.1.2 80 {
        weight 3
    }
}
virtual_server 10.0.1.2 80 {
    protocol TCP
    lvs_sched wrr
    real_server 10.1.1.1 80 {
    }
    real_server 10.1.1.2 80 {
        weight 3
    }
}
virtual_server 10.0.1.3 80 {
    protocol TCP
    lvs_sched lc
    real_server 10.1.1.1 80 {
    }
    real_server 10.1.1.2 80 {
        weight 3
    }
}
virtual_server 10.0.1.4 80 {
    protocol TCP
    lvs_sched wlc
    real_server 10.1.1.1 80 {
    }
    real_server 10.1.1.2 80 {
        weight 3
    }
}
virtual_server 10.0.1.5 80 {
    protocol TCP
    lvs_sched lblc
    real_server 10.1.1.1 80 {
    }
    real_server 10.1.1.2 80 {
        weight 3
    }
}
virtual_server 10.0.1.6 80 {
    protocol TCP
    lvs_sched lblcr
    real_server 10.1.1.1 80 {
    }
    real_server 10.1.1.2 80 {
        weight 3
    }
}
virtual_server 10.0.1.7 80 {
    protocol TCP
    lvs_sched dh
    real_server 10.1.1.1 80 {
    }
    real_server 10.1.1.2 80 {
        weight 3
    }
}
virtual_server 10.0.1.8 80 {
    protocol TCP
    lvs_sched sh
    sh-port
    sh-fallback
    real_server 10.1.1.1 80 {
    }
    real_server 10.1.1.2 80 {
        weight 3
    }
}
virtual_server 10.0.1.9 80 {
    protocol TCP
    lvs_sched sed
    real_server 10.1.1.1 80 {
    }
    real_server 10.1.1.2 80 {
        weight 3
    }
}
virtual_server 10.0.1.10 80 {
    protocol TCP
    lvs_sched nq
    real_server 10.1.1.1 80 {
    }
    real_server 10.1.1.2 80 {
        weight 3
    }
}
virtual_server 10.0.1.11 80 {
    protocol TCP
    lvs_sched fo
    real_server 10.1.1.1 80 {
    }
    real_server 10.1.1.2 80 {
        weight 3
    }
}
virtual_server 10.0.1.12 80 {
    protocol TCP
    lvs_sched ovf
    real_server 10.1.1.1 80 {
    }
    real_server 10.1.1.2 80 {
        weight 3
    }
}
virtual_server 10.0.1.13 80 {
    protocol TCP
    lvs_sched mh
    mh-port
    real_server 10.1.1.1 80 {
    }
    real_server 10.1.1.2 80 {
        weight 3
    }
}
KEEPALIVED

parity sorry <<'KEEPALIVED'
# sorry_server, inhibit_on_failure, quorum: at startup every real server is
# up, so neither keepalived nor lbx adds the sorry server.
virtual_server 10.0.6.1 80 {
    protocol TCP
    sorry_server 10.1.6.99 80
    inhibit_on_failure
    quorum 2
    hysteresis 1
    real_server 10.1.6.1 80 {
        weight 2
    }
    real_server 10.1.6.2 80 {
    }
}
KEEPALIVED

