global using System.Text;
global using Shmap.Tests;
global using Xunit;
