import fs from 'node:fs';
import path from 'node:path';

import { durationMs, maxMessageBytes, parseBrokerConfig } from '../../devhost/servicebus/broker-config';

describe('Service Bus broker config', () => {
  it('when the shipped config is parsed, then it declares the retraining queue and the events topic', () => {
    const file = path.join(__dirname, '../../devhost/servicebus/config.json');
    const config = parseBrokerConfig(JSON.parse(fs.readFileSync(file, 'utf8')));
    const ns = config.UserConfig.Namespaces[0]!;
    expect(ns.Queues.map((q) => q.Name)).toEqual(['retraining-requests']);
    expect(ns.Queues[0]!.Properties).toMatchObject({
      RequiresDuplicateDetection: true,
      DuplicateDetectionHistoryTimeWindow: 86_400_000,
      LockDuration: 300_000,
      MaxDeliveryCount: 5,
    });
    expect(ns.Topics.map((t) => t.Name)).toEqual(['model-events']);
    expect(ns.Topics[0]!.Subscriptions.length).toBeGreaterThanOrEqual(1);
  });

  it('when properties are omitted, then the Service Bus defaults apply', () => {
    const config = parseBrokerConfig({
      UserConfig: { Namespaces: [{ Name: 'n', Queues: [{ Name: 'q' }] }] },
    });
    expect(config.UserConfig.Namespaces[0]!.Queues[0]!.Properties).toEqual({
      LockDuration: 60_000,
      MaxDeliveryCount: 10,
      DeadLetteringOnMessageExpiration: false,
      RequiresSession: false,
      RequiresDuplicateDetection: false,
      DuplicateDetectionHistoryTimeWindow: 600_000,
    });
  });

  it('when no tier is given, then the namespace is Standard with its 256 KB message limit', () => {
    const ns = parseBrokerConfig({ UserConfig: { Namespaces: [{ Name: 'n', Queues: [{ Name: 'q' }] }] } }).UserConfig.Namespaces[0]!;
    expect(ns.Tier).toBe('Standard');
    expect(maxMessageBytes(ns, undefined)).toBe(262_144);
  });

  it('when an entity sets MaxMessageSizeInKilobytes, then only a Premium namespace accepts it, from 1 MB to 100 MB', () => {
    const queue = (tier: string, kb: number) => ({
      UserConfig: { Namespaces: [{ Name: 'n', Tier: tier, Queues: [{ Name: 'q', Properties: { MaxMessageSizeInKilobytes: kb } }] }] },
    });
    expect(() => parseBrokerConfig(queue('Standard', 2048))).toThrow(/MaxMessageSizeInKilobytes needs "Tier": "Premium"/);
    expect(() => parseBrokerConfig(queue('Premium', 512))).toThrow(/MaxMessageSizeInKilobytes/);
    expect(() => parseBrokerConfig(queue('Premium', 204_800))).toThrow(/MaxMessageSizeInKilobytes/);
    const ns = parseBrokerConfig(queue('Premium', 4096)).UserConfig.Namespaces[0]!;
    expect(maxMessageBytes(ns, ns.Queues[0]!.Properties.MaxMessageSizeInKilobytes)).toBe(4096 * 1024);
    expect(maxMessageBytes(ns, undefined)).toBe(1024 * 1024);
  });

  it('when ISO 8601 durations are given, then they become milliseconds', () => {
    expect(durationMs('PT1M')).toBe(60_000);
    expect(durationMs('PT20S')).toBe(20_000);
    expect(durationMs('PT0.5S')).toBe(500);
    expect(durationMs('P14D')).toBe(14 * 86_400_000);
    expect(durationMs('P1DT2H3M4S')).toBe(86_400_000 + 2 * 3_600_000 + 3 * 60_000 + 4000);
    expect(() => durationMs('1 minute')).toThrow(/ISO 8601/);
  });

  it('when the config has several mistakes, then every one is reported with its path', () => {
    const attempt = (): unknown =>
      parseBrokerConfig({
        UserConfig: {
          Namespaces: [
            {
              Name: 'n',
              Queues: [{ Name: 'q', Properties: { LockDuration: 'one minute', MaxDeliveryCount: 0 } }],
              Topics: [
                {
                  Name: 't',
                  Subscriptions: [
                    {
                      Name: 's',
                      Rules: [
                        { Name: 'r', Properties: { FilterType: 'Sql', SqlFilter: { SqlExpression: '1=1' } } },
                      ],
                    },
                  ],
                },
              ],
            },
          ],
        },
      });
    expect(attempt).toThrow(/ISO 8601 duration.*\n.*at .*Queues\[0\]\.Properties\.LockDuration/);
    expect(attempt).toThrow(/>=1\n.*at .*Queues\[0\]\.Properties\.MaxDeliveryCount/);
    expect(attempt).toThrow(/only correlation filters/);
  });

  it('when two entities differ only by case, then the config is rejected', () => {
    expect(() =>
      parseBrokerConfig({
        UserConfig: { Namespaces: [{ Name: 'n', Queues: [{ Name: 'jobs' }], Topics: [{ Name: 'Jobs' }] }] },
      }),
    ).toThrow(/'Jobs' is declared twice/);
  });

  it('when sessions or unknown properties are requested, then the config is rejected', () => {
    expect(() =>
      parseBrokerConfig({
        UserConfig: {
          Namespaces: [{ Name: 'n', Queues: [{ Name: 'q', Properties: { RequiresSession: true } }] }],
        },
      }),
    ).toThrow(/sessions are not supported/);
    expect(() =>
      parseBrokerConfig({
        UserConfig: {
          Namespaces: [{ Name: 'n', Queues: [{ Name: 'q', Properties: { LockDurations: 'PT1M' } }] }],
        },
      }),
    ).toThrow(/LockDurations/);
  });
});
