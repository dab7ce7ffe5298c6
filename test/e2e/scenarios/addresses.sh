# Static addresses with labels on a dummy link: added as declared, removed
# when dropped from the model, and an address nobody declared is left alone.
dummy dummy0
must ip addr add 192.0.2.99/24 dev dummy0 # not ours
model m.yaml <<'Y'
version: 1
addresses:
  - {address: 192.0.2.10/24, interface: dummy0, label: "dummy0:vip"}
  - {address: 192.0.2.11/32, interface: dummy0}
  - {address: "2001:db8:1::10/64", interface: dummy0}
Y
addrs() { ip -o addr show dev dummy0 | awk '{l=""; for (i=5;i<=NF;i++) if ($i ~ /^dummy0/) {l=$i; sub(/\\$/, "", l)}; print $4, l}' | grep -v '^fe80' | sort; }
run lbx plan -f m.yaml --detailed-exitcode
expect_rc 2
expect_out_contains "+ address.dummy0/192.0.2.10"
must lbx apply -f m.yaml --auto-approve
must ip -o addr show dev dummy0
got=$(addrs)
want=$(printf '%s\n' "192.0.2.10/24 dummy0:vip" "192.0.2.11/32 dummy0" "192.0.2.99/24 dummy0" "2001:db8:1::10/64 " | sort)
[[ $got == "$want" ]] || fail "addresses on dummy0:"$'\n'"$got"$'\n'"want:"$'\n'"$want"
run lbx plan -f m.yaml --detailed-exitcode
expect_rc 0 "no changes after apply"

sed -i '/192.0.2.11/d' m.yaml
run lbx plan -f m.yaml --detailed-exitcode
expect_rc 2
expect_out_contains "- address.dummy0/192.0.2.11"
expect_out_lacks "192.0.2.99"
must lbx apply -f m.yaml --auto-approve
got=$(addrs)
want=$(printf '%s\n' "192.0.2.10/24 dummy0:vip" "192.0.2.99/24 dummy0" "2001:db8:1::10/64 " | sort)
[[ $got == "$want" ]] || fail "after removal, addresses on dummy0:"$'\n'"$got"$'\n'"want:"$'\n'"$want"

# A label change cannot be made in place: replace.
sed -i 's/dummy0:vip/dummy0:web/' m.yaml
run lbx plan -f m.yaml --detailed-exitcode
expect_rc 2
expect_out_contains "-/+ address.dummy0/192.0.2.10"
must lbx apply -f m.yaml --auto-approve
grep -q '192.0.2.10/24 .*dummy0:web' <<<"$(ip -o addr show dev dummy0)" || fail "label not changed to dummy0:web"
run lbx plan -f m.yaml --detailed-exitcode
expect_rc 0
