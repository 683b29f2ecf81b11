package main

import (
	"github.com/sluice-cdc/sluice/configs"
	"github.com/sluice-cdc/sluice/internal/daemon"
	"github.com/sluice-cdc/sluice/internal/kafka"
)

func kafkaOptionsFor(cfg *configs.Config) kafka.Options {
	ko := daemon.KafkaOptions(cfg)
	if len(ko.Brokers) == 0 {
		listen := cfg.Kafka.Listen
		if listen == "" {
			listen = configs.DefaultKafkaListen
		}
		ko.Brokers = []string{listen}
	}
	return ko
}
