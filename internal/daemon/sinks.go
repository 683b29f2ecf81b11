package daemon

import (
	"fmt"

	"github.com/sluice-cdc/sluice/configs"
	"github.com/sluice-cdc/sluice/internal/runtime"
)

// sinkConnector builds a sink connector from its configuration.
func (d *Daemon) sinkConnector(sc *configs.Sink) (runtime.Connector, error) {
	return runtime.Connector{}, fmt.Errorf("sink %s: sinks of type %q are not available in this build yet", sc.Name, sc.Type)
}
