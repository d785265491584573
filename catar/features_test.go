package catar

import "testing"

func TestFeatures(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts FeatureOptions
		want Features
	}{
		// Values verified with casync 2 (format description §6.3).
		{"default", FeatureOptions{}, 0xb0000001ffeffe26},
		{"unix", FeatureOptions{With: []string{"unix"}}, 0xb000000000001f09},
		{"without all", FeatureOptions{Without: []string{"all"}}, 0xb000000000000000},
		{"sha256, no exclusions", FeatureOptions{Without: []string{"all"}, NoExcludeNodump: true, NoExcludeFile: true, SHA256: true}, 0},
		{"acl implies uids and names", FeatureOptions{With: []string{"acl"}, NoExcludeNodump: true, NoExcludeFile: true, SHA256: true}, WithACL | With32BitUIDs | WithUserNames},
		{"subvolume-ro implies subvolume", FeatureOptions{With: []string{"subvolume-ro"}, NoExcludeNodump: true, NoExcludeFile: true, SHA256: true}, WithSubvolumeRO | WithSubvolume},
		{"exclude-submounts", FeatureOptions{With: []string{"sec-time", "2sec-time"}, ExcludeSubmounts: true}, ExcludeSubmounts | ExcludeNodump | ExcludeFile | SHA512_256 | WithSecTime},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.opts.Features()
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("features %#x (%v), want %#x (%v)", uint64(got), got, uint64(tc.want), tc.want)
			}
			if !got.Valid() {
				t.Fatalf("%#x not valid", uint64(got))
			}
		})
	}
	if DefaultArchive != 0xb0000001ffeffe26 {
		t.Fatalf("DefaultArchive %#x", uint64(DefaultArchive))
	}
	if _, err := (FeatureOptions{With: []string{"symlinkz"}}).Features(); err == nil {
		t.Fatal("unknown feature name accepted")
	}
	if Features(WithSecTime | WithNsecTime).Valid() {
		t.Fatal("unnormalized flags reported valid")
	}
	if Features(1 << 40).Valid() {
		t.Fatal("unknown bit reported valid")
	}
	if g := (WithUsecTime | SHA512_256).TimeGranularity(); g != 1000 {
		t.Fatalf("granularity %d", g)
	}
}

func TestNameHash(t *testing.T) {
	// From tree.catar.dump.txt: the goodbye items of sub/deeper/leaf.txt,
	// sub/emptydir and sub/deeper.
	for name, want := range map[string]uint64{"leaf.txt": 0xb4db0f7ce8ea6638, "emptydir": 0x8266798bd9be9043, "deeper": 0x4ee9f93a18bdcb78} {
		if h := nameHash(name); h != want {
			t.Errorf("hash(%q) = %#x, want %#x", name, h, want)
		}
	}
}
