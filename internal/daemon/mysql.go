package daemon

import (
	"fmt"

	"github.com/sluice-cdc/sluice/configs"
	"github.com/sluice-cdc/sluice/internal/runtime"
)

// mysqlSourceConnector builds a MySQL/MariaDB source connector.
func (d *Daemon) mysqlSourceConnector(sc *configs.Source) (runtime.Connector, error) {
	return runtime.Connector{}, fmt.Errorf("source %s: type %q is not available in this build yet", sc.Name, sc.Type)
}
