package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/hookflow/hookflow/app"
)

// buildVersion is what `hookflow version` prints.
type buildVersion struct {
	// Version is the release stamped at link time (app.Version, as the
	// Dockerfile does), else the module version `go install ...@vX` records,
	// else "(devel)".
	Version string `json:"version"`
	// Commit, CommitTime and Modified are the VCS stamp `go build` records
	// in a checkout (absent with -buildvcs=false).
	Commit     string `json:"commit,omitempty"`
	CommitTime string `json:"commit_time,omitempty"`
	Modified   bool   `json:"modified,omitempty"`
	GoVersion  string `json:"go_version"`
	Platform   string `json:"platform"`
}

func readBuildVersion() buildVersion {
	v := buildVersion{Version: app.Version, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if v.Version == "" || v.Version == "dev" {
		v.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.CommitTime = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

func newVersionCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Print the version, commit and Go release of this binary",
		GroupID: groupServer,
		Long: `Print the version and the commit this binary was built from, as its build
information records them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := readBuildVersion()
			out := cmd.OutOrStdout()
			if asJSON {
				return writeJSON(out, v)
			}
			fmt.Fprintf(out, "hookflow %s\n", v.Version)
			if v.Commit != "" {
				modified := ""
				if v.Modified {
					modified = " (modified)"
				}
				fmt.Fprintf(out, "commit   %s%s %s\n", v.Commit, modified, v.CommitTime)
			}
			fmt.Fprintf(out, "go       %s %s\n", v.GoVersion, v.Platform)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func writeJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
