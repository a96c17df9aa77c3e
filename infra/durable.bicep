// Durable Task Scheduler: the managed backend for the orchestrations (batch fan-out, lifecycle,
// actuals join, retraining). The app reaches it with its identity (rbac.bicep grants the role).
param location string
param tags object
param name string
param taskHubName string

@allowed(['Consumption', 'Dedicated'])
@description('Consumption bills per action; Dedicated buys capacity units for steady high volume.')
param skuName string = 'Consumption'

resource scheduler 'Microsoft.DurableTask/schedulers@2025-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    sku: { name: skuName }
    // An empty list denies all traffic; access is by role (identity), not by network.
    ipAllowlist: ['0.0.0.0/0']
  }
}

resource taskHub 'Microsoft.DurableTask/schedulers/taskHubs@2025-11-01' = {
  parent: scheduler
  name: taskHubName
}

output schedulerName string = scheduler.name
output endpoint string = scheduler.properties.endpoint
output taskHubName string = taskHub.name
