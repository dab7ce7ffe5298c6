# Every scheduler the kernel ships (its ip_vs_*.ko modules, not a list in
# lbx) is applied and read back.
scheds=()
for m in /lib/modules/$(uname -r)/kernel/net/netfilter/ipvs/ip_vs_*.ko*; do
	s=$(basename "$m"); s=${s#ip_vs_}; s=${s%%.ko*}
	case $s in ftp | pe_*) continue ;; esac # an app helper and a persistence engine
	scheds+=("$s")
done
note "kernel schedulers: ${scheds[*]}"
((${#scheds[@]} >= 10)) || fail "found only ${#scheds[@]} scheduler modules"
{
	echo "version: 1"
	echo "virtual_servers:"
	p=1000
	for s in "${scheds[@]}"; do
		p=$((p + 1))
		echo "  - {address: 10.0.0.1, port: $p, scheduler: $s, forwarding: dr, real_servers: [{address: 10.1.0.5}]}"
	done
} | model m.yaml
must lbx apply -f m.yaml --auto-approve
p=1000
for s in "${scheds[@]}"; do
	p=$((p + 1))
	expect_kernel_line "-A -t 10.0.0.1:$p -s $s"
done
run lbx plan -f m.yaml --detailed-exitcode
expect_rc 0
