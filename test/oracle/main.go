// Command oracle runs Talos's own Go code (github.com/siderolabs/talos/pkg/machinery) for the project's
// tests: it generates machine configs with Talos's generator, validates configs as a node does when one is
// applied, and drives the simulator with Talos's client library. It is used by the tests and nothing else;
// it is never part of the autobootstrap binary or the extension.
package main

import (
	"fmt"
	"os"
)

const usage = `usage:
  oracle gen DIR                  write Talos-generated machine configs for every contract (v1.7 onwards) to DIR
  oracle sim-clusters DIR N       write N Talos-generated clusters (v1.13 contract, a secrets bundle each) for the simulator to DIR
  oracle validate FILE...         load and validate each config as a node does on ApplyConfiguration (JSON lines)
  oracle client SPEC.json         drive a simulated cluster with Talos's client library (JSON report)
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}

	var err error

	switch os.Args[1] {
	case "gen":
		if len(os.Args) != 3 {
			fmt.Fprint(os.Stderr, usage)
			os.Exit(2)
		}

		err = generateAll(os.Args[2])
	case "sim-clusters":
		n := 0
		if len(os.Args) == 4 {
			_, err = fmt.Sscanf(os.Args[3], "%d", &n)
		}

		if len(os.Args) != 4 || err != nil || n < 1 {
			fmt.Fprint(os.Stderr, usage)
			os.Exit(2)
		}

		err = generateSimClusters(os.Args[2], n)
	case "validate":
		err = validateFiles(os.Args[2:], os.Stdout)
	case "client":
		if len(os.Args) != 3 {
			fmt.Fprint(os.Stderr, usage)
			os.Exit(2)
		}

		err = runClientSuite(os.Args[2], os.Stdout)
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}

	if err != nil {
		fmt.Fprintf(os.Stderr, "oracle %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
