# Export of a kernel state lbx never touched (made by ipvsadm-restore, every
# kind of service) plans to no changes; plan --live on the exported file
# prints the same plan as against the kernel.
must ipvsadm-restore <<'R'
-A -t 10.0.0.1:80 -s wlc -p 300 -M 255.255.255.0
-a -t 10.0.0.1:80 -r 10.1.0.5:80 -g -w 2
-a -t 10.0.0.1:80 -r 10.1.0.6:80 -i -w 0
-a -t 10.0.0.1:80 -r 10.1.0.7:80 -m -w 1
-A -u 10.0.0.1:53 -s rr -o
-a -u 10.0.0.1:53 -r 10.1.0.8:53 -m -w 1
-A --sctp-service 10.0.0.1:3868 -s sh -b sh-fallback,sh-port
-A -t [2001:db8::1]:443 -s lc -p 60 -M 64
-a -t [2001:db8::1]:443 -r [2001:db8::10]:443 -m -w 1
-A -f 7 -s mh -b mh-port
-a -f 7 -r 10.1.0.9:0 -g -w 1
-A -f 8 -6 -s rr
R
must ipvsadm -e -t 10.0.0.1:80 -r 10.1.0.5:80 -g -w 2 -x 100 -y 10
before=$(kernel_rules)
must lbx export -o yaml
echo "$OUT" >exported.yaml
run lbx plan -f exported.yaml --detailed-exitcode
expect_rc 0 "export -> plan round trip"
[[ $(kernel_rules) == "$before" ]] || fail "export or plan changed the kernel"

# A model that differs from the live state: plan against the kernel and
# against the exported file must print the same.
sed -e 's/weight: 2/weight: 4/' exported.yaml >edited.yaml
cmp -s exported.yaml edited.yaml && fail "could not edit the export (no 'weight: 2' in it)"
run lbx plan -f edited.yaml --prune
expect_rc 0
kplan=$OUT
run lbx plan -f edited.yaml --prune --live exported.yaml
expect_rc 0
[[ $OUT == "$kplan" ]] || {
	diff <(echo "$kplan") <(echo "$OUT") >&2 || true
	fail "plan --live exported.yaml differs from plan against the kernel"
}
grep -q '^Plan: 0 to add, 1 to change, 0 to destroy' <<<"$kplan" || fail "edited export: want exactly one change"
