global using System.Globalization;
global using System.Text;
global using Xunit;
global using Xunit.Abstractions;
