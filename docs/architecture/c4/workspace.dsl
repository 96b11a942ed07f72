/*
 * C4 model of the trading bot platform (Structurizr DSL).
 * Browse it with ./scripts/structurizr-lite.sh. test/docs/c4-drift.test.ts keeps it true to the code:
 * every service in services/ is a container tagged "Service" named as the service, and every topic of
 * schemas/index.ts (TOPIC_TABLE) is a container tagged "Topic" named as the topic, with its partition
 * key as the property "key", one relationship from its producer and one to each consumer group.
 */
workspace "Trading bot platform" "Market data -> indicators -> signals -> two-stage risk gate -> execution -> portfolio, on Moleculer." {

    model {
        trader = person "Trader" "Registers instruments into their portfolios, watches candles, signals, decisions and fills, and edits risk limits."
        operator = person "Operator" "Runs the platform (docker compose or npm start), holds the API token, sets the account-wide limits and the kill switch, watches topics and consumer lag."
        developer = person "Developer" "Builds and tests the platform: npm start runs everything in one process, npm test runs the suites on real Kafka, MongoDB (FerretDB) and NATS."

        exchange = softwareSystem "Exchange" "The crypto exchange (Binance; other ccxt exchanges for market data): market data streams and REST order placement. The built-in market simulator and paper broker stand in for it by default." "External"

        platform = softwareSystem "Trading bot platform" "Turns market data into trades under a two-stage risk gate and keeps portfolios, orders, fills and decisions as the system of record." {

            dashboard = container "Dashboard" "Trader dashboard: overview, instruments, market (candles, indicators, signals, fills), portfolio, decisions, risk limits and kill switch, system. Reads the REST API and the Server-Sent Events stream." "Vue 3 single-page app in the browser" "Browser"

            gateway = container "gateway" "API Gateway: the REST API with bearer-token auth (operator and traders), the OpenAPI document, topic statistics, and GET /api/stream pushing topic events to dashboards as Server-Sent Events. Records each portfolio's equity curve." "Moleculer service, moleculer-web" "Service"

            risk = container "risk" "Risk & Portfolio Manager: the system of record (instruments, portfolios, orders, fills, decisions, limits) and the two-stage risk gate. Actions registerInstrument, getPortfolio, listOrders, ..." "Moleculer service" "Service" {
                registration = component "Instrument registration" "RegisterInstrument(): validates the instrument against the exchange's market rules, stores it into the portfolio and announces it on instrument.registered (key instrument_key)." "risk.registerInstrument action"
                stage1 = component "Stage 1: instrument checks" "Consumes trading.signals in instrument order (group risk, key instrument_key), applies the instrument rules (enabled, stale signal, confidence) and repartitions each passing signal once per portfolio holding the instrument onto trading.signals.portfolio (key portfolio_key)." "topic handler, lib/risk/rules.ts"
                stage2 = component "Stage 2: portfolio checks" "Consumes trading.signals.portfolio in portfolio order (key portfolio_key), applies the portfolio rules and sizes the order, asks the account gate, records the decision and publishes trades.approved or trades.rejected (key portfolio_key, idempotency key per decision)." "topic handler, lib/risk/rules.ts"
                accountGate = component "Account gate" "The account-wide gate every portfolio shares: the kill switch (account_halted), maximum working orders and maximum exposure over all portfolios, checked under one account-wide lock." "lib/risk/account.ts"
                reconciliation = component "Order and fill reconciliation" "Consumes orders.placed and orders.fills (key portfolio_key), deduplicates fills by fillId, applies them to the portfolio (lib/risk/accounting.ts) and announces portfolio.updated (key portfolio_key)." "topic handlers"
                systemOfRecord = component "System of record" "Instruments, portfolios, orders, fills, decisions, account limits and traders' allowances, written before the event announcing them goes out." "Store mixin collections"
            }

            ingestion = container "ingestion" "Data Ingestion: on instrument.registered backfills candles from the facade and starts its market data stream; stores every trade, order-book snapshot, closed candle and its indicators in batches, applies retention; serves candles of every timeframe, indicators and coverage (actions candles, indicators, coverage, trades, book)." "Moleculer service" "Service"
            features = container "features" "Feature Engineering: streaming indicators on each closed 1-minute candle (RSI, MACD, Bollinger, ATR, EMA/SMA, realized volatility), warmed up from ingestion.candles." "Moleculer service" "Service"
            prediction = container "prediction" "Prediction Engine: strategies (RSI/MACD rules or the TensorFlow.js LSTM) turn indicators into BUY/SELL/HOLD signals (actions signals, models, reload)." "Moleculer service, TensorFlow.js" "Service"
            execution = container "execution" "Execution Engine: turns approved trades into venue orders through the facade (exchange.placeOrder, client order id from the decision), reports order states and fills, and recovers missed fills after a restart." "Moleculer service" "Service"
            exchangeFacade = container "exchange" "External API Facade: market data streams (market simulator or ccxt), order placement, cancels and execution reports (paper broker or live binance). Actions startMarketDataStream, placeOrder, cancelOrder, getOrder, market, candles, status." "Moleculer service, ccxt" "Service"

            # The topics: on Kafka in the distributed mode, on the in-process topic log in the embedded mode.
            topicInstrumentRegistered = container "instrument.registered" "InstrumentRegistered: an instrument was registered, enabled or disabled. Key instrument_key = exchange:symbol, e.g. binance:BTC/USDT." "Kafka topic, key instrument_key" "Topic" {
                properties {
                    "key" "instrument_key"
                }
            }
            topicMarketRawData = container "market.raw.data" "MarketData: trades, tickers, order book and closed candles from the exchange. Key instrument_key." "Kafka topic, key instrument_key" "Topic" {
                properties {
                    "key" "instrument_key"
                }
            }
            topicFeaturesIndicators = container "features.indicators" "FeaturesComputed: the indicators of each closed 1-minute candle. Key instrument_key." "Kafka topic, key instrument_key" "Topic" {
                properties {
                    "key" "instrument_key"
                }
            }
            topicTradingSignals = container "trading.signals" "TradingSignal: BUY/SELL/HOLD with strategy, model version, confidence and the features behind it. Key instrument_key (stage 1 reads it in instrument order)." "Kafka topic, key instrument_key" "Topic" {
                properties {
                    "key" "instrument_key"
                }
            }
            topicTradingSignalsPortfolio = container "trading.signals.portfolio" "PortfolioSignal: a signal that passed the instrument checks, once per portfolio holding the instrument. Key portfolio_key (stage 2 reads it in portfolio order). Idempotency key per signal and portfolio." "Kafka topic, key portfolio_key" "Topic" {
                properties {
                    "key" "portfolio_key"
                }
            }
            topicTradesApproved = container "trades.approved" "TradeApproved: a sized order the risk gate approved, with its client order id. Key portfolio_key, idempotency key per decision." "Kafka topic, key portfolio_key" "Topic" {
                properties {
                    "key" "portfolio_key"
                }
            }
            topicTradesRejected = container "trades.rejected" "TradeRejected: a signal the risk gate refused, with the reason (limit, halted, stale, ...). Key portfolio_key, idempotency key per decision." "Kafka topic, key portfolio_key" "Topic" {
                properties {
                    "key" "portfolio_key"
                }
            }
            topicOrdersPlaced = container "orders.placed" "OrderPlaced: a venue order's state (new, partially filled, filled, canceled, rejected). Key portfolio_key, idempotency key per order state." "Kafka topic, key portfolio_key" "Topic" {
                properties {
                    "key" "portfolio_key"
                }
            }
            topicOrdersFills = container "orders.fills" "OrderFilled: one execution of an order (price, quantity, fee). Key portfolio_key, idempotency key fillId." "Kafka topic, key portfolio_key" "Topic" {
                properties {
                    "key" "portfolio_key"
                }
            }
            topicPortfolioUpdated = container "portfolio.updated" "PortfolioUpdated: the portfolio snapshot (cash, positions, P&L, equity) after each change. Key portfolio_key." "Kafka topic, key portfolio_key" "Topic" {
                properties {
                    "key" "portfolio_key"
                }
            }
            topicDeadLetter = container "dead.letter" "DeadLetter: a message a consumer group could not handle (invalid, or its handler kept failing after the retries), with the reason and the original message. Key: the original message's key." "Kafka topic, key of the original message" "Topic" {
                properties {
                    "key" "original_key"
                }
            }

            mongo = container "MongoDB" "System of record of the distributed mode (MONGO_URI): the risk service's instruments, portfolios, orders, fills and decisions; the facade's orders and streams; the gateway's equity curves." "MongoDB 7" "Database"
            marketDataStore = container "Market data store" "Trades, order-book snapshots, 1-minute candles and their indicators per instrument and time (the seed's time-series store, QuestDB standing in for TimescaleDB), kept by ingestion (QUESTDB_URL); 5m to 1d candles derived from the 1-minute ones; retention per kind. DuckDB in DATA_DIR in the embedded mode." "QuestDB 9.2" "Database"
            nats = container "NATS" "Moleculer transporter (TRANSPORTER): services in different processes find each other and call actions (RegisterInstrument, StartMarketDataStream, PlaceOrder, GetPortfolio) over it." "NATS 2.10" "Infrastructure"

            embeddedProcess = container "Embedded platform (npm start)" "The embedded default: every service in one Node.js process on one Moleculer broker, the topics on the in-process topic log (same topics, keys, partitions and consumer groups), the market simulator and paper trading. SERVICES picks a subset." "Node.js 22, Moleculer, in-process topic log" "Embedded"
            dataDir = container "Data directory (DATA_DIR)" "File-backed stores of the embedded mode (store/*.db: system of record, equity curves; market.duckdb: the market data store), trained models (models/) and the generated API token." "Files in ./data" "Database"
        }

        # People and the outside world
        trader -> dashboard "Registers instruments, watches markets and portfolios, edits limits" "HTTPS, browser"
        operator -> dashboard "Signs in with the API token; halts or resumes trading, watches the system view" "HTTPS, browser"
        operator -> gateway "Operates the platform through the REST API (API_TOKEN)" "REST, bearer token"
        developer -> embeddedProcess "Runs npm start and the tests" "npm"
        dashboard -> gateway "Calls the REST API; reads the live event stream GET /api/stream" "REST + Server-Sent Events, JSON, bearer token"
        exchangeFacade -> exchange "Streams market data; places, cancels and queries orders" "WebSocket / REST through ccxt"

        # Action calls between services (Moleculer actions over NATS in the distributed mode)
        gateway -> risk "RegisterInstrument(), GetPortfolio(), orders, fills, decisions, limits, kill switch" "Moleculer actions"
        gateway -> ingestion "Routes GET /api/market/* (candles, indicators, trades, book)" "Moleculer actions"
        gateway -> prediction "Routes GET /api/signals, GET /api/models, POST /api/models/reload" "Moleculer actions"
        gateway -> exchangeFacade "Reads the facade's status" "Moleculer action exchange.status"
        ingestion -> exchangeFacade "StartMarketDataStream(), backfills candles" "Moleculer actions"
        features -> ingestion "Warms the indicators up from stored candles" "Moleculer action ingestion.candles"
        prediction -> ingestion "Warms the strategies up from stored indicators" "Moleculer action ingestion.indicators"
        execution -> exchangeFacade "PlaceOrder(), getOrder, executions since a time" "Moleculer actions"
        registration -> exchangeFacade "Reads the market's rules (tick, lot, minimum notional)" "Moleculer action exchange.market"
        gateway -> nats "Calls and answers actions" "NATS"
        risk -> nats "Calls and answers actions" "NATS"
        ingestion -> nats "Calls and answers actions" "NATS"
        features -> nats "Calls and answers actions" "NATS"
        prediction -> nats "Calls and answers actions" "NATS"
        execution -> nats "Calls and answers actions" "NATS"
        exchangeFacade -> nats "Calls and answers actions" "NATS"

        # Topics: producer -> topic -> consumer groups (kept equal to TOPIC_TABLE by the drift test)
        registration -> topicInstrumentRegistered "Publishes InstrumentRegistered, key instrument_key" "Kafka"
        topicInstrumentRegistered -> ingestion "Consumed by group ingestion: backfill, start or stop the stream" "Kafka"

        exchangeFacade -> topicMarketRawData "Publishes MarketData, key instrument_key" "Kafka"
        topicMarketRawData -> ingestion "Consumed by group ingestion: store candles, trades and the book" "Kafka"
        topicMarketRawData -> features "Consumed by group features: indicators on closed candles" "Kafka"

        features -> topicFeaturesIndicators "Publishes FeaturesComputed, key instrument_key" "Kafka"
        topicFeaturesIndicators -> prediction "Consumed by group prediction: run the strategy" "Kafka"
        topicFeaturesIndicators -> ingestion "Consumed by group ingestion: store the indicators" "Kafka"
        topicFeaturesIndicators -> gateway "Consumed by group gateway: push to dashboards with the candle" "Kafka"

        prediction -> topicTradingSignals "Publishes TradingSignal (BUY/SELL/HOLD), key instrument_key" "Kafka"
        topicTradingSignals -> stage1 "Consumed by group risk in instrument order" "Kafka"
        topicTradingSignals -> gateway "Consumed by group gateway: push to dashboards" "Kafka"

        stage1 -> topicTradingSignalsPortfolio "Repartitions each passing signal per portfolio, key portfolio_key" "Kafka"
        topicTradingSignalsPortfolio -> stage2 "Consumed by group risk in portfolio order" "Kafka"

        stage2 -> topicTradesApproved "Publishes TradeApproved, key portfolio_key" "Kafka"
        topicTradesApproved -> execution "Consumed by group execution: place the order" "Kafka"
        topicTradesApproved -> gateway "Consumed by group gateway: push to dashboards" "Kafka"

        stage2 -> topicTradesRejected "Publishes TradeRejected with the reason, key portfolio_key" "Kafka"
        topicTradesRejected -> gateway "Consumed by group gateway: push to dashboards" "Kafka"

        execution -> topicOrdersPlaced "Publishes OrderPlaced per order state, key portfolio_key" "Kafka"
        topicOrdersPlaced -> reconciliation "Consumed by group risk: record the order's state" "Kafka"

        execution -> topicOrdersFills "Publishes OrderFilled per fill, key portfolio_key" "Kafka"
        topicOrdersFills -> reconciliation "Consumed by group risk: apply the fill once" "Kafka"
        topicOrdersFills -> gateway "Consumed by group gateway: push to dashboards" "Kafka"

        reconciliation -> topicPortfolioUpdated "Publishes PortfolioUpdated, key portfolio_key" "Kafka"
        topicPortfolioUpdated -> gateway "Consumed by group gateway: record equity, push to dashboards" "Kafka"

        # Any consumer group parks what it cannot handle; nobody consumes dead.letter (operators inspect it).
        gateway -> topicDeadLetter "Parks events it cannot handle, original key" "Kafka"
        risk -> topicDeadLetter "Parks events it cannot handle, original key" "Kafka"
        ingestion -> topicDeadLetter "Parks events it cannot handle, original key" "Kafka"
        features -> topicDeadLetter "Parks events it cannot handle, original key" "Kafka"
        prediction -> topicDeadLetter "Parks events it cannot handle, original key" "Kafka"
        execution -> topicDeadLetter "Parks events it cannot handle, original key" "Kafka"

        # Inside the risk service
        stage1 -> systemOfRecord "Reads instruments and the portfolios holding them" "in process"
        stage2 -> accountGate "Asks for room on the account after the portfolio's rules approved" "in process"
        stage2 -> systemOfRecord "Reads limits and positions; writes the decision first" "in process"
        accountGate -> systemOfRecord "Reads the kill switch, account limits, all working orders and positions" "in process"
        registration -> systemOfRecord "Stores the instrument into the portfolio" "in process"
        reconciliation -> systemOfRecord "Writes order states and fills, updates the portfolio" "in process"
        systemOfRecord -> mongo "Reads and writes instruments, portfolios, orders, fills, decisions" "MongoDB wire protocol"
        systemOfRecord -> dataDir "Reads and writes the same collections in the embedded mode" "files"

        # Stores
        ingestion -> marketDataStore "Writes trades, books, candles and indicators; reads history, resampled candles and coverage" "PostgreSQL wire protocol, InfluxDB line protocol"
        gateway -> mongo "Keeps each portfolio's equity curve" "MongoDB wire protocol"
        exchangeFacade -> mongo "Keeps paper orders, fills and streams" "MongoDB wire protocol"

        # The embedded mode
        trader -> embeddedProcess "Uses the dashboard it serves at http://localhost:3000/" "HTTPS, browser"
        embeddedProcess -> dataDir "Keeps every store, the models and the API token" "files"
        embeddedProcess -> exchange "Live market data and orders when MARKET_DATA / TRADING_MODE say so" "ccxt"

        deploymentEnvironment "docker-compose" {
            deploymentNode "Docker host" "docker compose up -d --build (docker-compose.yml)" "Docker Compose" {
                deploymentNode "gateway" "SERVICES=gateway, port ${PORT:-3000}:3000, health check GET /api/health" "trading-bot-platform image" {
                    containerInstance gateway
                    containerInstance dashboard
                }
                deploymentNode "risk" "SERVICES=risk" "trading-bot-platform image" {
                    containerInstance risk
                }
                deploymentNode "ingestion" "SERVICES=ingestion" "trading-bot-platform image" {
                    containerInstance ingestion
                }
                deploymentNode "features" "SERVICES=features (scale out: docker compose up --scale features=3)" "trading-bot-platform image" {
                    containerInstance features
                }
                deploymentNode "prediction" "SERVICES=prediction, MODEL_VERSION" "trading-bot-platform image" {
                    containerInstance prediction
                }
                deploymentNode "execution" "SERVICES=execution" "trading-bot-platform image" {
                    containerInstance execution
                }
                deploymentNode "exchange" "SERVICES=exchange, TRADING_MODE" "trading-bot-platform image" {
                    containerInstance exchangeFacade
                }
                deploymentNode "kafka" "Single KRaft node (broker + controller), 6 partitions per topic, volume kafka-data" "apache/kafka:3.9.1" {
                    containerInstance topicInstrumentRegistered
                    containerInstance topicMarketRawData
                    containerInstance topicFeaturesIndicators
                    containerInstance topicTradingSignals
                    containerInstance topicTradingSignalsPortfolio
                    containerInstance topicTradesApproved
                    containerInstance topicTradesRejected
                    containerInstance topicOrdersPlaced
                    containerInstance topicOrdersFills
                    containerInstance topicPortfolioUpdated
                    containerInstance topicDeadLetter
                }
                deploymentNode "mongo" "Volume mongo-data" "mongo:7" {
                    containerInstance mongo
                }
                deploymentNode "questdb" "Volume questdb-data" "questdb/questdb:9.2.2" {
                    containerInstance marketDataStore
                }
                deploymentNode "nats" "Moleculer transporter" "nats:2.10" {
                    containerInstance nats
                }
            }
            deploymentNode "Exchange" "Binance (or the simulator inside the exchange container)" "Internet" {
                softwareSystemInstance exchange
            }
        }
    }

    views {
        systemContext platform "SystemContext" "Who uses the platform and what it talks to." {
            title "System context"
            include *
            autoLayout lr
        }

        container platform "Containers" "The distributed mode: one container per service, the topics on Kafka (producer -> topic -> consumer groups), MongoDB, NATS. Dead-letter arrows and NATS are in the model; left out here to keep the picture readable." {
            title "Containers: distributed mode"
            include trader operator exchange dashboard
            include gateway risk ingestion features prediction execution exchangeFacade
            include topicInstrumentRegistered topicMarketRawData topicFeaturesIndicators topicTradingSignals topicTradingSignalsPortfolio topicTradesApproved topicTradesRejected topicOrdersPlaced topicOrdersFills topicPortfolioUpdated
            include mongo marketDataStore
            exclude "gateway -> ingestion" "gateway -> prediction" "gateway -> exchangeFacade" "operator -> gateway"
            autoLayout lr
        }

        container platform "Infrastructure" "Action calls over NATS and the stores of the distributed mode; every consumer group parks what it cannot handle on dead.letter." {
            title "Containers: action calls, stores, dead letters"
            include gateway risk ingestion features prediction execution exchangeFacade
            include nats mongo marketDataStore topicDeadLetter exchange
            autoLayout lr
        }

        container platform "EmbeddedMode" "npm start: every service in one process on the in-process topic log and file stores." {
            title "Containers: embedded mode"
            include trader developer exchange embeddedProcess dataDir
            autoLayout lr
        }

        component risk "RiskComponents" "The Risk & Portfolio Manager: both stages, the account gate, the system of record." {
            title "Components: risk service"
            include *
            autoLayout lr
        }

        deployment platform "docker-compose" "DockerCompose" "docker-compose.yml: one container per service from the one image, Kafka, MongoDB, NATS." {
            title "Deployment: docker compose"
            include *
            exclude "* -> nats"
            autoLayout lr
        }

        dynamic platform "RegistrationToFill" "The seed's workflow: registering an instrument, then from market data to a fill and the updated portfolio." {
            title "Dynamic: registration to fill"
            trader -> dashboard "Registers BTC/USDT into a portfolio"
            dashboard -> gateway "POST /api/instruments"
            gateway -> risk "RegisterInstrument()"
            risk -> mongo "Stores the instrument config"
            risk -> topicInstrumentRegistered "InstrumentRegistered (key binance:BTC/USDT)"
            topicInstrumentRegistered -> ingestion "InstrumentRegistered"
            ingestion -> exchangeFacade "StartMarketDataStream(BTC/USDT)"
            exchangeFacade -> exchange "Subscribes to trades and the order book"
            exchangeFacade -> topicMarketRawData "Raw market data"
            topicMarketRawData -> ingestion "Stores candles, trades, book"
            ingestion -> marketDataStore "Stores candles"
            topicMarketRawData -> features "Closed 1-minute candle"
            features -> topicFeaturesIndicators "RSI, MACD, volatility"
            topicFeaturesIndicators -> prediction "Features"
            prediction -> topicTradingSignals "BUY signal"
            topicTradingSignals -> risk "Stage 1: instrument rules (instrument order)"
            risk -> topicTradingSignalsPortfolio "Repartitioned per portfolio (key portfolio_key)"
            topicTradingSignalsPortfolio -> risk "Stage 2: portfolio rules and the account gate (portfolio order)"
            risk -> topicTradesApproved "TradeApproved (or trades.rejected with the reason)"
            topicTradesApproved -> execution "Approved trade"
            execution -> exchangeFacade "PlaceOrder()"
            exchangeFacade -> exchange "REST: new order"
            execution -> topicOrdersPlaced "OrderPlaced"
            execution -> topicOrdersFills "OrderFilled"
            topicOrdersFills -> risk "Persists the fill once, updates the portfolio"
            risk -> topicPortfolioUpdated "PortfolioUpdated"
            topicPortfolioUpdated -> gateway "Portfolio snapshot"
            gateway -> dashboard "Pushes the new position (Server-Sent Events)"
            autoLayout lr
            properties {
                "mermaid.sequenceDiagram" "true"
            }
        }

        styles {
            element "Person" {
                shape person
                background #08427b
                color #ffffff
            }
            element "Software System" {
                background #1168bd
                color #ffffff
            }
            element "External" {
                background #999999
                color #ffffff
            }
            element "Container" {
                background #438dd5
                color #ffffff
            }
            element "Service" {
                background #438dd5
                color #ffffff
            }
            element "Topic" {
                # The topic's payload is in its description in the model; on the diagrams, name and key.
                description false
                shape pipe
                background #f5a623
                color #000000
            }
            element "Database" {
                shape cylinder
                background #2f7d32
                color #ffffff
            }
            element "Infrastructure" {
                background #6a4c93
                color #ffffff
            }
            element "Browser" {
                shape webBrowser
            }
            element "Embedded" {
                background #0b6e4f
                color #ffffff
            }
            element "Component" {
                background #85bbf0
                color #000000
            }
        }
    }
}
