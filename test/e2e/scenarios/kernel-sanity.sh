# The rig itself: the kernel has IPVS, ipvsadm-save/-restore round-trip, a
# locally sent SYN moves a service's connection counter (what the in-place
# edit scenarios rely on), and thresholds are visible.
[[ -e /proc/net/ip_vs ]] || fail "ip_vs not loaded"
dummy vip0 10.0.0.1/32
must ipvsadm-restore <<'R'
-A -t 10.0.0.1:80 -s wlc
-a -t 10.0.0.1:80 -r 10.1.0.5:80 -g -w 2 -x 100 -y 10
R
must ipvsadm-save -n
must ipvsadm -Ln --thresholds
expect_kernel_line "-A -t 10.0.0.1:80 -s wlc"
before=$(service_conns -t 10.0.0.1:80)
touch_service 10.0.0.1 80
after=$(service_conns -t 10.0.0.1:80)
note "conns before=$before after=$after"
((after > before)) || fail "a SYN to the VIP did not move the service's connection counter"
must ipvsadm -E -t 10.0.0.1:80 -s rr
((  $(service_conns -t 10.0.0.1:80) == after )) || fail "counter reset by an edit"
