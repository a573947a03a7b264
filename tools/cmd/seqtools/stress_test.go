package main

import (
	"slices"
	"testing"
	"time"
)

func TestStressSchedule(t *testing.T) {
	for seed := range uint64(20) {
		s := &stress{cfg: stressConfig{Kills: 12, Seed: seed, duration: 20 * time.Second}}
		s.rng = newStressRand(seed)
		at := s.schedule()
		if len(at) != 12 || !slices.IsSorted(at) || at[0] <= 0 || at[11] >= 20*time.Second {
			t.Fatalf("seed %d: schedule %v; want 12 kill times, increasing, inside the 20s", seed, at)
		}
		// Each kill stays within 40% of an interval (20s/13) of its slot.
		iv := 20 * time.Second / 13
		for i, d := range at {
			if slot := time.Duration(i+1) * iv; d < slot-iv*2/5 || d > slot+iv*2/5 {
				t.Errorf("seed %d: kill %d at %v, slot %v", seed, i, d, slot)
			}
		}
	}
	s := &stress{cfg: stressConfig{Kills: 0, duration: time.Second}, rng: newStressRand(1)}
	if at := s.schedule(); len(at) != 0 {
		t.Errorf("no kills: %v", at)
	}
}

func TestPlainIdent(t *testing.T) {
	for s, want := range map[string]bool{
		"seqshim_stress_ab12": true, "t": true, "_x": true,
		"": false, "1t": false, "T": false, "a-b": false, `a"b`: false,
		"a23456789012345678901234567890123456789012345678901": false,
	} {
		if got := plainIdent(s); got != want {
			t.Errorf("plainIdent(%q) = %v", s, got)
		}
	}
}

func TestStressUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-workers", "0"},
		{"-kills", "-1"},
		{"-block-size", "-1"},
		{"-pg-table", "Bad-Name"},
		{"-worker", "1"}, // a worker needs -pg-table and -namespace
	} {
		if code, _, stderr := runCmd(t, append([]string{"stress"}, args...)...); code != 2 {
			t.Errorf("stress %v: exit %d; want 2 (%s)", args, code, stderr)
		}
	}
}
